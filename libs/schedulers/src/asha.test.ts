import { describe, expect, it } from 'vitest';
import { Rng, type Trial } from '@segtune/core';
import { AshaScheduler } from './asha';
import { HyperbandScheduler } from './hyperband';
import { MoAshaScheduler } from './moasha';
import { bracketSequence, hyperbandWeights } from './brackets';
import { rungValue } from './rungs';
import { FakeHistory } from './testing';

const budget = { name: 'epochs', min: 1, max: 9 };

describe('ASHA rungs', () => {
  it('ladders: rungs below max from min_resource·η^k, grace period skips early rungs', () => {
    expect(new AshaScheduler(budget, [{ name: 'acc', direction: 'maximize' }]).ladders).toEqual([[1, 3]]);
    expect(new AshaScheduler({ ...budget, max: 27 }, [{ name: 'acc', direction: 'maximize' }], { gracePeriod: 2 }).ladders).toEqual([[3, 9]]);
    expect(new AshaScheduler({ ...budget, max: 27 }, [{ name: 'acc', direction: 'maximize' }], { brackets: 3 }).ladders).toEqual([[1, 3, 9], [3, 9], [9]]);
  });

  it('promotes the best ⌊n/η⌋ at rung 1, best-so-far while ⌊n/η⌋ = 0, ties to the lower trial number', () => {
    const h = new FakeHistory();
    const s = new AshaScheduler(budget, h.objectives, { reductionFactor: 3 });
    // n=1, k=0: the only one is the best → continue
    expect(h.report(s, 0, 1, 0.5)).toBe('continue');
    // n=2, k=0: 0.4 is not the best → stop
    expect(h.report(s, 1, 1, 0.4)).toBe('stop');
    // n=3, k=1: 0.6 ranks first → continue
    expect(h.report(s, 2, 1, 0.6)).toBe('continue');
    // n=4, k=1: 0.55 ranks second → stop
    expect(h.report(s, 3, 1, 0.55)).toBe('stop');
    // n=5, k=1: 0.6 ties trial 2; trial 2 is earlier, so trial 4 ranks second → stop
    expect(h.report(s, 4, 1, 0.6)).toBe('stop');
    // n=6, k=2: 0.58 ranks third (0.6, 0.6, 0.58) → stop
    expect(h.report(s, 5, 1, 0.58)).toBe('stop');
    // n=7, k=2: 0.65 ranks first → continue
    expect(h.report(s, 6, 1, 0.65)).toBe('continue');
    // Non-rung steps never stop.
    expect(h.report(s, 0, 2, 0.1)).toBe('continue');
    // Rung 3: trial 0 first there (n=1) → continue; trial 2 worse (n=2, k=0) → stop; trial 6 better → continue
    expect(h.report(s, 0, 3, 0.7)).toBe('continue');
    expect(h.report(s, 2, 2, 0.6)).toBe('continue');
    expect(h.report(s, 2, 3, 0.69)).toBe('stop');
    expect(h.report(s, 6, 3, 0.71)).toBe('continue');
  });

  it('minimize direction ranks smaller values first; an exact tie at n=2 goes to the earlier trial', () => {
    const h = new FakeHistory([{ name: 'loss', direction: 'minimize' }]);
    const s = new AshaScheduler(budget, h.objectives);
    expect(h.report(s, 0, 1, 0.3)).toBe('continue');
    expect(h.report(s, 1, 1, 0.3)).toBe('stop');
    expect(h.report(s, 2, 1, 0.2)).toBe('continue');
  });

  it('a trial that fails mid-way or stops reporting does not block the rung', () => {
    const h = new FakeHistory();
    const s = new AshaScheduler(budget, h.objectives);
    for (let i = 0; i < 6; i++) h.report(s, i, 1, [0.9, 0.8, 0.95, 0.1, 0.2, 0.3][i]);
    // Trial 0 (0.9) went on, then failed at step 2; trial 2 (0.95) went on, then hangs (no reports).
    h.report(s, 0, 2, 0.9);
    h.finish(0, 'failed');
    // Trial 1 was stopped at rung 1 (0.8 < 0.9): ranks 0.95, 0.9 → n=2 → k=0 → second → stop.
    expect(h.get(1).state).toBe('pruned');
    // A new trial reaches rung 3 while 0 failed and 2 hangs: it is decided at once.
    h.report(s, 6, 1, 0.99);
    h.report(s, 6, 2, 0.99);
    expect(h.report(s, 6, 3, 0.99)).toBe('continue');
    // And another one is judged against it without waiting on the hung trial 2.
    h.report(s, 7, 1, 0.999);
    h.report(s, 7, 2, 0.98);
    expect(h.report(s, 7, 3, 0.98)).toBe('stop');
  });

  it('rung value: the first step at or beyond the rung, from the record as stored now', () => {
    const t = { intermediate: { 1: { acc: 0.1 }, 5: { acc: 0.5 } } as Trial['intermediate'] };
    expect(rungValue(t, 3, 'acc')).toEqual({ step: 5, value: 0.5 });
    expect(rungValue(t, 1, 'acc')).toEqual({ step: 1, value: 0.1 });
    expect(rungValue(t, 9, 'acc')).toBeUndefined();
    // A later report at step 4 replaces the record: the rung now reads step 4.
    t.intermediate = { ...t.intermediate, 4: { acc: 0.4 } };
    expect(rungValue(t, 3, 'acc')).toEqual({ step: 4, value: 0.4 });
    expect(rungValue({ intermediate: { 3: { acc: NaN } } }, 3, 'acc')).toBeUndefined();
  });

  it('hand-computed Hyperband bracket 1 (rungs 3, 9 of 27): first rung at 3, ties to the earlier trial', () => {
    const h = new FakeHistory(undefined, { name: 'epochs', min: 1, max: 27 });
    const hb = new HyperbandScheduler(h.budget, h.objectives);
    const b1 = Array.from({ length: 200 }, (_, n) => n).filter((n) => hb.bracketFor(n) === 1).slice(0, 4);
    // Steps 1 and 2 are below this bracket's first rung: nothing stops, however bad.
    for (const n of b1) {
      expect(h.report(hb, n, 1, 0.01)).toBe('continue');
      expect(h.report(hb, n, 2, 0.01)).toBe('continue');
    }
    expect(h.report(hb, b1[0], 3, 0.5)).toBe('continue'); // n=1, k=0, best
    expect(h.report(hb, b1[1], 3, 0.5)).toBe('stop'); // n=2, k=0, ties b1[0] and is later
    expect(h.report(hb, b1[2], 3, 0.6)).toBe('continue'); // n=3, k=1, first
    expect(h.report(hb, b1[3], 3, 0.5)).toBe('stop'); // n=4, k=1, fourth (0.6, then the two earlier 0.5s)
  });

  it('the single-objective fast rank agrees with the full ranking, ties and missing values included', () => {
    class Probe extends AshaScheduler {
      both(history: Trial[], me: Trial, rung: number): [boolean, boolean] {
        const b = this.bracketFor(me.number);
        return [this.passesRung(history, me, b, rung), this.passesRungRanked(history, me, b, rung)];
      }
    }
    for (const objectives of [[{ name: 'acc', direction: 'maximize' as const }], [{ name: 'acc', direction: 'minimize' as const }]]) {
      const s = new Probe({ name: 'epochs', min: 1, max: 27 }, objectives, { brackets: 2 });
      const rng = new Rng(4);
      let stops = 0;
      for (let round = 0; round < 30; round++) {
        const history: Trial[] = Array.from({ length: 1 + rng.int(25) }, (_, n) => {
          // Coarse values so that ties are common; some trials never reached the rung, some reported NaN.
          const r = rng.random();
          const intermediate: Trial['intermediate'] = r < 0.15 ? { 1: { acc: 0.5 } } : { 3: { acc: r < 0.2 ? NaN : rng.int(4) / 4 } };
          return { id: n + 1, studyId: 1, number: n, state: 'running', params: { x: n }, intermediate, attrs: {}, createdAt: 0, seq: n };
        });
        for (const me of history) {
          const [fast, ranked] = s.both(history, me, 3);
          expect(fast).toBe(ranked);
          if (!fast) stops++;
        }
      }
      expect(stops).toBeGreaterThan(50);
    }
  });

  it('skipped steps: a report beyond a rung counts as the rung value', () => {
    const h = new FakeHistory();
    const s = new AshaScheduler(budget, h.objectives);
    h.report(s, 0, 2, 0.8); // crosses rung 1 at step 2
    expect(h.report(s, 1, 2, 0.7)).toBe('stop');
    expect(h.report(s, 2, 4, 0.9)).toBe('continue'); // crosses rungs 1 and 3 at once
  });
});

/** Reports of `n` trials (steps 1..max, a noisy rising curve each), deterministic. */
function reportsFor(n: number, max: number, seed: number): { trial: number; step: number; value: number }[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, t) => {
    const level = rng.random();
    return Array.from({ length: max }, (_, i) => ({ trial: t, step: i + 1, value: level * (1 - Math.exp(-(i + 1) / 2)) + 0.01 * rng.random() }));
  });
}

/** One random interleaving of per-trial report streams (each trial's steps stay in order). */
function interleave<T>(streams: T[][], rng: Rng): T[] {
  const pos = streams.map(() => 0);
  const out: T[] = [];
  for (;;) {
    const open = streams.map((s, i) => (pos[i] < s.length ? i : -1)).filter((i) => i >= 0);
    if (!open.length) return out;
    const i = open[rng.int(open.length)];
    out.push(streams[i][pos[i]++]);
  }
}

describe('decisions from stored values only', () => {
  it('one process or several workers (separate scheduler objects) decide the same, for ASHA and Hyperband', () => {
    for (const make of [
      () => new AshaScheduler({ name: 'epochs', min: 1, max: 27 }, [{ name: 'acc', direction: 'maximize' }]),
      () => new HyperbandScheduler({ name: 'epochs', min: 1, max: 27 }, [{ name: 'acc', direction: 'maximize' }]),
    ]) {
      const order = interleave(reportsFor(40, 27, 7), new Rng(11));
      const run = (workers: number) => {
        const h = new FakeHistory(undefined, { name: 'epochs', min: 1, max: 27 });
        const schedulers = Array.from({ length: workers }, make);
        const decisions: string[] = [];
        for (const r of order) {
          const t = h.trials.find((x) => x.number === r.trial);
          if (t && t.state !== 'running') continue;
          // Trial t is run by worker t mod W, with that worker's own scheduler object.
          decisions.push(`${r.trial}@${r.step}:${h.report(schedulers[r.trial % workers], r.trial, r.step, r.value)}`);
        }
        return decisions;
      };
      const one = run(1);
      expect(one.some((d) => d.endsWith('stop'))).toBe(true);
      expect(run(3)).toEqual(one);
      expect(run(8)).toEqual(one);
    }
  });

  it('the same holds for MO-ASHA and for promotion-mode ASHA (merged configurations, resumed trials)', () => {
    const budget27 = { name: 'epochs', min: 1, max: 27 };
    const two = [
      { name: 'acc', direction: 'maximize' as const },
      { name: 'lat', direction: 'minimize' as const },
    ];
    const acc = [{ name: 'acc', direction: 'maximize' as const }];
    const cases = [
      { objectives: two, make: () => new MoAshaScheduler(budget27, two), params: (n: number) => ({ x: n }) },
      { objectives: two, make: () => new MoAshaScheduler(budget27, two, { selection: 'hypervolume', brackets: 2 }), params: (n: number) => ({ x: n }) },
      // Trials 20.. rerun the configurations of trials 0.. (as promoted, resumed trials do).
      { objectives: acc, make: () => new AshaScheduler(budget27, acc, { mode: 'promotion' }), params: (n: number) => ({ x: n % 20 }) },
    ];
    for (const { objectives, make, params } of cases) {
      const base = reportsFor(40, 27, 9);
      const lat = reportsFor(40, 27, 10);
      // A resumed trial reports only the steps after its configuration's first run stopped.
      const streams = base.map((st, n) => st.filter((r) => n < 20 || r.step > 9).map((r, i) => ({ ...r, lat: 1 - lat[n][i].value })));
      const order = interleave(streams, new Rng(12));
      const run = (workers: number) => {
        const h = new FakeHistory(objectives, budget27);
        const schedulers = Array.from({ length: workers }, make);
        const decisions: string[] = [];
        for (const r of order) {
          let t = h.trials.find((x) => x.number === r.trial);
          if (!t) t = h.add(r.trial, params(r.trial));
          if (t.state !== 'running') continue;
          const values = objectives.length === 2 ? { acc: r.value, lat: r.lat } : r.value;
          decisions.push(`${r.trial}@${r.step}:${h.report(schedulers[r.trial % workers], r.trial, r.step, values)}`);
        }
        return decisions;
      };
      const one = run(1);
      expect(one.filter((d) => d.endsWith('stop')).length).toBeGreaterThan(5);
      expect(run(3)).toEqual(one);
      expect(run(7)).toEqual(one);
    }
  });

  it('interleavings that keep the order of rung reports give identical ASHA decisions', () => {
    const streams = reportsFor(30, 9, 3);
    const s = () => new AshaScheduler(budget, [{ name: 'acc', direction: 'maximize' }]);
    const rungs = new Set([1, 3]);
    const rungOrder = interleave(streams.map((st) => st.filter((r) => rungs.has(r.step))), new Rng(5));
    const decide = (seed: number) => {
      // Non-rung steps are scattered at random between the fixed sequence of rung reports,
      // each trial's steps staying in order.
      const rng = new Rng(seed);
      const others = streams.map((st) => st.filter((r) => !rungs.has(r.step)));
      const next = streams.map(() => 0);
      const nextRung = streams.map(() => 1);
      const order: typeof rungOrder = [];
      for (const r of rungOrder) {
        for (let t = 0; t < others.length; t++) {
          while (next[t] < others[t].length && others[t][next[t]].step < nextRung[t] && (t === r.trial || rng.random() < 0.3)) order.push(others[t][next[t]++]);
        }
        order.push(r);
        nextRung[r.trial] = r.step === 1 ? 3 : Infinity;
      }
      for (let t = 0; t < others.length; t++) while (next[t] < others[t].length) order.push(others[t][next[t]++]);
      const h = new FakeHistory();
      const sched = s();
      const out = new Map<string, string>();
      for (const r of order) {
        const t = h.trials.find((x) => x.number === r.trial);
        if (t && t.state !== 'running') continue;
        const d = h.report(sched, r.trial, r.step, r.value);
        if (rungs.has(r.step)) out.set(`${r.trial}@${r.step}`, d);
      }
      return out;
    };
    const a = decide(1);
    expect([...a.values()].filter((d) => d === 'stop').length).toBeGreaterThan(5);
    expect(decide(2)).toEqual(a);
    expect(decide(3)).toEqual(a);
  });
});

describe('Hyperband brackets', () => {
  it('weights as Optuna allocates them and a deterministic interleaving', () => {
    expect(hyperbandWeights(4, 3)).toEqual([27, 12, 6, 4]);
    const seq = bracketSequence([27, 12, 6, 4]);
    expect(seq).toHaveLength(49);
    expect([0, 1, 2, 3].map((b) => seq.filter((x) => x === b).length)).toEqual([27, 12, 6, 4]);
    const hb = new HyperbandScheduler({ name: 'epochs', min: 1, max: 27 }, [{ name: 'acc', direction: 'maximize' }]);
    expect(hb.ladders).toEqual([[1, 3, 9], [3, 9], [9], []]);
    const first = Array.from({ length: 200 }, (_, n) => hb.bracketFor(n));
    const again = new HyperbandScheduler({ name: 'epochs', min: 1, max: 27 }, [{ name: 'acc', direction: 'maximize' }]);
    expect(Array.from({ length: 200 }, (_, n) => again.bracketFor(n))).toEqual(first);
    expect(new Set(first.slice(0, 10)).size).toBeGreaterThan(2); // brackets alternate, not in blocks
  });

  it('judges a trial only against its own bracket; the last bracket never stops', () => {
    const h = new FakeHistory(undefined, { name: 'epochs', min: 1, max: 27 });
    const hb = new HyperbandScheduler(h.budget, h.objectives);
    const byBracket = (b: number) => Array.from({ length: 100 }, (_, n) => n).filter((n) => hb.bracketFor(n) === b);
    const [a0, a1] = byBracket(0);
    const [c0, c1] = byBracket(3);
    expect(h.report(hb, a0, 1, 0.5)).toBe('continue');
    expect(h.report(hb, a1, 1, 0.4)).toBe('stop');
    // Bracket 3 has no rungs: a worse value never stops.
    for (let s = 1; s < 27; s++) expect(h.report(hb, c0, s, 0.9)).toBe('continue');
    for (let s = 1; s < 27; s++) expect(h.report(hb, c1, s, 0.1)).toBe('continue');
  });
});
