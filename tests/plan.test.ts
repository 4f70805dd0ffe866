import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { loadSpaceFile } from '@segtune/space';
import { estimateMemoryBytes } from '@segtune/seg';
import { runCli } from './support/cli';

const root = mkdtempSync(join(tmpdir(), 'segtune-plan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function png(w: number, h: number, px: (x: number, y: number) => number[]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = px(x, y);
      const o = (y * w + x) * 4;
      p.data[o] = r;
      p.data[o + 1] = g ?? r;
      p.data[o + 2] = b ?? r;
      p.data[o + 3] = 255;
    }
  return PNG.sync.write(p);
}

/** n samples of w×h; label(i, x, y) gives the class of a pixel. */
function folder(name: string, n: number, w: number, h: number, label: (i: number, x: number, y: number) => number): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, 'images', `im${i}.png`), png(w, h, (x, y) => [label(i, x, y) * 70, 90, 30]));
    writeFileSync(join(dir, 'masks', `im${i}.png`), png(w, h, (x, y) => [label(i, x, y)]));
  }
  return dir;
}

// Thin structures: a one-pixel line (class 1) and a 2×2 dot (class 2) on 48×48 background: ~3 %.
const thin = (i: number, x: number, y: number) => (x === 5 + (i % 30) ? 1 : x >= 20 && x < 22 && y >= 10 + i % 20 && y < 12 + i % 20 ? 2 : 0);
const env = { SEGTUNE_FAKE_GPUS: 'none' };

describe('segtune plan', () => {
  it('writes a commented, valid space from an imbalanced folder dataset, with a reason for each choice', () => {
    const data = folder('thin', 12, 48, 48, thin);
    const out = join(root, 'spaces', 'planned.yaml');
    const r = runCli(['plan', '--data', data, '--out', out, '--hours', '0.5', '--memory-mb', '2000', '--workers', '2', '--backend', 'wasm'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/12 images, 48×48 \(12\), colour/);
    expect(r.stdout).toMatch(/foreground 2\.\d %/);
    for (const c of ['image_size', 'depth', 'width', 'batch_size', 'loss', 'class_weights', 'budget', 'scheduler', 'trials', 'memory']) expect(r.stdout).toMatch(new RegExp(`^${c} .*\\n +why: .{20,}`, 'm'));
    expect(r.stdout).toMatch(/--memory-mb 2000; 75 % of it shared by 2 trials/);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^# Fingerprint: all 48×48, colour, 3 classes/m);
    const { spec } = loadSpaceFile(out);
    expect(spec.workload).toMatchObject({ kind: 'segmentation', dataset: { kind: 'folder', path: '../thin', image_size: 48, num_classes: 3 } });
    expect(spec.params.loss).toMatchObject({ type: 'categorical', choices: ['ce_dice', 'dice', 'tversky', 'focal', 'ce'] });
    expect(spec.scheduler).toMatchObject({ kind: 'asha' });
    expect(spec.timeout).toBe('30m');
    // The widest, deepest, largest-batch configuration fits the memory per trial.
    const worst = { width: Math.max(...(spec.params.width as { choices: number[] }).choices), depth: (spec.params.depth as { high: number }).high, batch_size: Math.max(...(spec.params.batch_size as { choices: number[] }).choices) };
    expect(estimateMemoryBytes(worst, spec.workload)).toBeLessThanOrEqual((2000 * 0.75 * 2 ** 20) / 2);
  });

  it('takes the memory of the GPU nvidia-smi reports', () => {
    const data = folder('balanced', 6, 16, 16, (i, x) => (x < 8 ? 0 : 1));
    const r = runCli(['plan', '--data', data, '--out', join(root, 'b.yaml'), '--hours', '1', '--backend', 'wasm', '--json'], { env: { SEGTUNE_FAKE_GPUS: '0:H200:1000:200' } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { choices: { choice: string; value: string; why: string }[]; fingerprint: { foregroundFraction: number } };
    expect(doc.fingerprint.foregroundFraction).toBeCloseTo(0.5, 10);
    expect(doc.choices.find((c) => c.choice === 'memory')).toMatchObject({ value: '720 MiB', why: expect.stringMatching(/nvidia-smi: 1 GPU \(H200\), 800 MiB free/) });
    // Balanced classes: cross-entropy first, no class weights.
    expect(doc.choices.find((c) => c.choice === 'loss')!.value).toBe('ce, ce_dice, dice');
    expect(loadSpaceFile(join(root, 'b.yaml')).spec.params.class_weights).toBeUndefined();
  });

  it('names the file of bad data in one line and exits 2', () => {
    const cases: [string, () => string, RegExp][] = [
      ['empty folder', () => folder('empty', 0, 8, 8, () => 0), /holds no PNG or JPEG image$/],
      [
        'missing mask',
        () => {
          const d = folder('nomask', 3, 8, 8, (i, x) => x % 2);
          unlinkSync(join(d, 'masks', 'im1.png'));
          return d;
        },
        /no mask for .*images\/im1\.png \(expected .*masks\/im1\.png\)$/,
      ],
      [
        'size mismatch',
        () => {
          const d = folder('mismatch', 3, 8, 8, (i, x) => x % 2);
          writeFileSync(join(d, 'masks', 'im2.png'), png(8, 6, () => [0]));
          return d;
        },
        /masks\/im2\.png is 8x6 but its image .*im2\.png is 8x8$/,
      ],
      ['class index out of range (255 without --ignore-index)', () => folder('voc', 3, 8, 8, (i, x) => (x === 3 ? 255 : x % 2)), /masks\/im0\.png has class index 255 at pixel \(3, 0\); pass --ignore-index 255/],
    ];
    for (const [what, make, message] of cases) {
      const r = runCli(['plan', '--data', make(), '--out', join(root, 'bad.yaml')], { env });
      expect(r.code, what).toBe(2);
      expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(r.stderr.trim(), what).toMatch(message);
    }
    const voc = join(root, 'voc');
    const over = runCli(['plan', '--data', voc, '--out', join(root, 'bad.yaml'), '--ignore-index', '255', '--num-classes', '1'], { env });
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/--num-classes must be at least 2/);
    const ok = runCli(['plan', '--data', voc, '--out', join(root, 'voc.yaml'), '--ignore-index', '255', '--backend', 'wasm', '--hours', '0.2'], { env });
    expect(ok.code).toBe(0);
    const voc8 = loadSpaceFile(join(root, 'voc.yaml')).spec;
    expect(voc8.workload).toMatchObject({ dataset: { ignore_index: 255, num_classes: 2, image_size: 8 } });
    // 8 px allows a single down-sampling level.
    expect(voc8.params.depth).toMatchObject({ type: 'categorical', choices: [1] });
    const missing = runCli(['plan', '--out', join(root, 'bad.yaml')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--data/);
    // Memory that not even the smallest model fits, a name against the rule, an --out below a
    // file or where no folder can be made: one line, exit 2, no space written.
    const refused: [string[], RegExp][] = [
      [['--memory-mb', '1'], /^segtune: memory: the smallest model the plan would search \(width 4, depth 1, batch 2 at 8px\) needs about [\d.]+ MiB to train, more than the [\d.]+ MiB a trial gets \(--memory-mb 1;.*\); give more memory \(--memory-mb\) or run fewer trials at once \(--workers\)$/],
      [['--name', '../x'], /^segtune: --name: "..\/x" is not a valid name; allowed: /],
      [['--out', join(voc, 'images', 'im0.png', 'x.yaml')], /^segtune: --out: cannot write .*x\.yaml: .*im0\.png is not a folder$/],
      [['--out', '/proc/segtune-no/x.yaml'], /^segtune: --out: cannot write \/proc\/segtune-no\/x\.yaml: cannot make the folder \/proc\/segtune-no: /],
    ];
    for (const [args, message] of refused) {
      const out = join(root, 'refused.yaml');
      const r = runCli(['plan', '--data', voc, '--out', out, '--ignore-index', '255', '--backend', 'wasm', ...args], { env, timeoutMs: 60_000 });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trim(), args.join(' ')).toMatch(message);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
  });
});
