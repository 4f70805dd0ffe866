import { describe, expect, it } from 'vitest';
import { Rng, UserError, type Trial } from '@segtune/core';
import { parseSpace } from '@segtune/space';
import { fakeTrial } from './drive';
import { PatienceRule, parseStopRules } from './stop-rules';
import { RegretBoundRule, regretBound } from './regret-bound';

const { space } = parseSpace('name: s\nobjectives: [{ name: loss, direction: minimize }]\nparams:\n  x: { type: float, low: 0, high: 1 }\n  y: { type: float, low: 0, high: 1 }\nworkload: { kind: module, path: ./w.mjs }\n');
const one = [{ name: 'loss', direction: 'minimize' as const }];
const two = [
  { name: 'a', direction: 'minimize' as const },
  { name: 'b', direction: 'minimize' as const },
];
const ctx = (objectives: typeof one, trials: Trial[]) => ({ space, objectives, constraints: [], trials });

describe('patience', () => {
  it('fires once N complete trials in a row did not improve the best, not one trial sooner', () => {
    const values = [5, 4, 3, 2, 1, 1.5, 2, 1, 3];
    const trials = values.map((v, i) => fakeTrial(i, { x: 0.5, y: 0.5 }, [v], one));
    const rule = new PatienceRule(4);
    expect(rule.check(ctx(one, trials.slice(0, 8)))).toBeUndefined();
    expect(rule.check(ctx(one, trials))).toBe('no improvement of the best loss in the last 4 complete trials');
    // Failed trials do not count towards the patience.
    const failed = fakeTrial(9, { x: 0.5, y: 0.5 }, undefined, one, {}, 'failed');
    expect(rule.check(ctx(one, [...trials.slice(0, 8), failed]))).toBeUndefined();
  });

  it('with several objectives, watches the hypervolume: a new point on the front resets it', () => {
    const pts = [[1, 5], [5, 1], [3, 3], [4, 4], [5, 5], [3.5, 3.5]];
    const trials = pts.map((v, i) => fakeTrial(i, { x: 0.5, y: 0.5 }, v, two));
    expect(new PatienceRule(3).check(ctx(two, trials))).toBe('no improvement of the hypervolume in the last 3 complete trials');
    const better = fakeTrial(6, { x: 0.5, y: 0.5 }, [2, 2], two);
    expect(new PatienceRule(3).check(ctx(two, [...trials, better]))).toBeUndefined();
  });
});

describe('regret bound', () => {
  const f = (p: Record<string, unknown>) => (Number(p.x) - 0.3) ** 2 + (Number(p.y) - 0.6) ** 2;
  const sample = (n: number, spread: number, seed: number) => {
    const rng = new Rng(seed);
    return Array.from({ length: n }, (_, i) => {
      const p = { x: Math.min(1, Math.max(0, 0.3 + spread * (rng.random() - 0.5))), y: Math.min(1, Math.max(0, 0.6 + spread * (rng.random() - 0.5))) };
      return fakeTrial(i, p, [f(p) + 0.001 * rng.normal(0, 1)], one);
    });
  };

  it('is smaller for a study that has closed in on the optimum than for one that has not', () => {
    const spread = sample(40, 1, 1);
    const close = [...sample(20, 1, 2), ...sample(40, 0.1, 3).map((t, i) => ({ ...t, number: 20 + i }))];
    const a = regretBound(ctx(one, spread), spread.map((t) => t.values![0]), spread)!;
    const b = regretBound(ctx(one, close), close.map((t) => t.values![0]), close)!;
    expect(b.regret).toBeLessThan(a.regret);
    expect(b.regret).toBeGreaterThanOrEqual(0);
    expect(regretBound(ctx(one, spread.slice(0, 10)), spread.slice(0, 10).map((t) => t.values![0]), spread.slice(0, 10))).toBeUndefined();
  });

  it('fires against a threshold above the bound and not below it', () => {
    const trials = sample(40, 0.2, 4);
    const b = regretBound(ctx(one, trials), trials.map((t) => t.values![0]), trials)!;
    expect(new RegretBoundRule(b.regret * 2).check(ctx(one, trials))).toMatch(/^regret bound .* below the threshold/);
    expect(new RegretBoundRule(b.regret / 2).check(ctx(one, trials))).toBeUndefined();
  });
});

describe('parseStopRules', () => {
  it('reads patience:N and regret:auto|VALUE, and refuses anything else in one line', () => {
    expect(parseStopRules(['patience:50', 'regret:auto', 'regret:0.01'], one).map((r) => r.name)).toEqual(['patience:50', 'regret:auto', 'regret:0.01']);
    for (const bad of ['patience', 'patience:0', 'patience:x', 'regret:', 'regret:-1', 'never:3']) {
      expect(() => parseStopRules([bad], one)).toThrow(UserError);
    }
    expect(() => parseStopRules(['regret:auto'], two)).toThrow(/for one objective/);
  });
});
