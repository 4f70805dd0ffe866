import { afterEach, describe, expect, it } from 'vitest';
import { Rng, type Trial } from '@segtune/core';
import { Space, type ParamDef } from '@segtune/space';
import { ParzenEstimator, type DimInfo, type ParzenOptions } from './parzen';
import { parzenKernel, setParzenKernelEnabled, WASM_MIN_KERNELS } from './parzen-kernel';
import { PARZEN_KERNEL_WASM } from './parzen-kernel.generated';
import { TpeSampler } from './tpe';
import { fakeTrial } from './drive';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

afterEach(() => setParzenKernelEnabled(true));

const disc = (n: number): DimInfo => {
  const centres = Float64Array.from({ length: n }, (_, i) => (i + 0.5) / n);
  return { kind: 'disc', n, centres, lo: centres.map((_, i) => i / n), hi: centres.map((_, i) => (i + 1) / n) };
};

/** The same estimator built with the wasm kernel off and on, and both evaluations of `rows`. */
function both(infos: DimInfo[], columns: Float64Array[], weights: number[], o: ParzenOptions, rows: number[][]) {
  const out: Float64Array[] = [];
  for (const on of [false, true]) {
    setParzenKernelEnabled(on);
    const e = new ParzenEstimator(infos, columns, weights, o);
    out.push(e.logPdf(rows));
    out.push(e.logPdf(rows)); // a second call on the same data (the copy into wasm memory is skipped)
  }
  return out;
}

describe('Parzen estimator: wasm kernel', () => {
  it('is available here (so the comparisons below compare two paths)', () => {
    expect(parzenKernel()).not.toBeNull();
  });

  it('its committed bytes are what the build script assembles from the committed source', () => {
    const script = fileURLToPath(new URL('../../../scripts/build-parzen-wasm.mjs', import.meta.url));
    expect(execFileSync(process.execPath, [script, '--print'], { encoding: 'utf8' }).trim()).toBe(PARZEN_KERNEL_WASM);
  });

  it('gives the JS loop’s log densities to the bit: continuous and mixed groups, odd and even kernel counts, both bandwidth rules', () => {
    const rng = new Rng(7);
    let compared = 0;
    for (const d of [1, 2, 3, 6, 7]) {
      for (const n of [WASM_MIN_KERNELS - 1, WASM_MIN_KERNELS, 9, 64, 65, 300]) {
        for (const mixed of [false, true]) {
          const infos: DimInfo[] = Array.from({ length: d }, (_, i) => (mixed && i === 0 ? disc(5) : mixed && i === 1 ? { kind: 'cat', k: 3 } : { kind: 'cont' }));
          // Clustered observations (a converged study) and some at the cube's faces.
          const columns = infos.map(() => Float64Array.from({ length: n }, (_, j) => (j % 7 === 0 ? Math.round(rng.random()) : 0.3 + 0.1 * rng.normal(0, 1))).map((v) => Math.min(1, Math.max(0, v))));
          const weights = Array.from({ length: n }, () => 0.1 + rng.random());
          const o: ParzenOptions = { priorWeight: 1, bandwidth: n % 2 ? 'neighbor' : 'scott', magicClip: true, bandwidthFactor: 1 };
          const rows = Array.from({ length: 24 }, (_, r) => infos.map(() => (r < 3 ? r / 2 : r < 12 ? 0.3 + 0.05 * rng.normal(0, 1) : rng.random())).map((v) => Math.min(1, Math.max(0, v))));
          const [js, js2, wasm, wasm2] = both(infos, columns, weights, o, rows);
          for (let i = 0; i < rows.length; i++) {
            expect(Object.is(wasm[i], js[i]), `d=${d} n=${n} mixed=${mixed} row ${i}: ${wasm[i]} vs ${js[i]}`).toBe(true);
            expect(Object.is(wasm2[i], js[i])).toBe(true);
            expect(Object.is(js2[i], js[i])).toBe(true);
          }
          compared++;
        }
      }
    }
    expect(compared).toBe(60);
  });

  it('a TPE study makes the same suggestions with the kernel as without (400 trials, continuous and mixed spaces)', async () => {
    const spaces: { space: Space; f: (p: Record<string, unknown>) => number }[] = [
      {
        space: new Space(Array.from({ length: 5 }, (_, i) => ({ name: `x${i}`, type: 'float', low: -2, high: 2 }) as ParamDef)),
        f: (p) => Object.values(p).reduce((a: number, v) => a + ((v as number) - 0.7) ** 2 + Math.sin(5 * (v as number)), 0),
      },
      {
        space: new Space([
          { name: 'lr', type: 'float', low: 1e-4, high: 1, log: true },
          { name: 'width', type: 'int', low: 4, high: 64 },
          { name: 'opt', type: 'categorical', choices: ['adam', 'sgd', 'adamw'] },
          { name: 'drop', type: 'float', low: 0, high: 0.5, step: 0.05 },
        ] as ParamDef[]),
        f: (p) => Math.log10(p.lr as number) ** 2 + Math.abs((p.width as number) - 24) / 10 + (p.opt === 'sgd' ? 1 : 0) + (p.drop as number),
      },
    ];
    const objectives = [{ name: 'value', direction: 'minimize' as const }];
    for (const { space, f } of spaces) {
      const runs: string[][] = [];
      for (const on of [false, true]) {
        setParzenKernelEnabled(on);
        const sampler = new TpeSampler();
        let history: Trial[] = [];
        const seen: string[] = [];
        for (let n = 0; n < 400; n++) {
          const p = await sampler.suggest({ space, objectives, constraints: [], history, running: [], rng: Rng.derive(3, 'sample', n), trialNumber: n, seed: 3 });
          seen.push(JSON.stringify(p));
          history = [...history, fakeTrial(n, p, [f(p)], objectives)];
        }
        runs.push(seen);
      }
      expect(runs[1]).toEqual(runs[0]);
    }
  });
});

describe('Parzen estimator: discrete cells', () => {
  it('rows that share a cell get the same log density as each evaluated alone (the per-cell terms are reused within a call)', () => {
    const rng = new Rng(11);
    const infos: DimInfo[] = [disc(4), { kind: 'cont' }, disc(16), { kind: 'cat', k: 3 }];
    const n = 120;
    const columns = infos.map(() => Float64Array.from({ length: n }, () => rng.random()));
    const e = new ParzenEstimator(infos, columns, new Array(n).fill(1), { priorWeight: 1, bandwidth: 'neighbor', magicClip: true, bandwidthFactor: 1 });
    // 40 rows over few cells: most share their discrete cells with an earlier row.
    const rows = Array.from({ length: 40 }, () => [(Math.floor(rng.random() * 2) + 0.5) / 4, rng.random(), (Math.floor(rng.random() * 3) + 0.5) / 16, rng.random()]);
    const together = e.logPdf(rows);
    rows.forEach((row, i) => expect(Object.is(e.logPdf([row])[0], together[i]), `row ${i}`).toBe(true));
    // And a row of another cell after them is not given a cached cell's terms.
    const other = [3.5 / 4, 0.5, 15.5 / 16, 0.5];
    expect(e.logPdf([...rows, other])[40]).toBe(e.logPdf([other])[0]);
    expect(e.logPdf([other])[0]).not.toBe(e.logPdf([[rows[0][0], 0.5, rows[0][2], 0.5]])[0]);
  });
});
