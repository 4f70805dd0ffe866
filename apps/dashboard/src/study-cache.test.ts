import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '@segtune/storage';
import { paretoSummary } from '@segtune/pareto';
import type { Storage, StudyRecord } from '@segtune/core';
import { StudyCache } from './study-cache';
import { writeDemoStudy } from './demo-study';
import type { StudyPageData } from './page-data';

async function demo(trials: number, options: { running?: number } = {}): Promise<{ storage: Storage; record: StudyRecord }> {
  const storage = new MemoryStorage();
  const record = await writeDemoStudy(storage, { name: 'demo', trials, seed: 11, ...options });
  return { storage, record };
}

const parse = (c: StudyCache, pick?: string) => JSON.parse(c.pageJson(pick)) as StudyPageData;

describe('StudyCache', () => {
  it('serves every trial and a front that matches @segtune/pareto on the complete trials', async () => {
    const { storage, record } = await demo(80);
    const c = new StudyCache(storage, record);
    expect(await c.sync()).toHaveLength(80);
    const d = parse(c);
    expect(d.trials.map((t) => t.number)).toEqual([...Array(80).keys()]);
    const all = await storage.getTrials(record.id);
    const complete = all.filter((t) => t.state === 'complete');
    expect(d.study.counts.complete).toBe(complete.length);
    expect(d.study.n_trials).toBe(80);
    const s = paretoSummary(complete.map((t) => ({ values: t.values! })), record.objectives);
    expect(new Set(d.pareto.front)).toEqual(new Set(s.front.map((i) => complete[i].number)));
    expect(d.pareto.hypervolume).toBeCloseTo(s.hypervolume, 12);
    expect(d.pareto.knee).toBe(complete[s.knee].number);
    expect(d.pareto.points).toHaveLength(complete.length);
    // The front is listed best-first on the first objective (miou, maximised).
    const miou = d.pareto.front.map((n) => all[n].values![0]);
    expect(miou).toEqual([...miou].sort((a, b) => b - a));
    // Rows follow the CLI's field names and leave the curves to `intermediate`.
    expect(Object.keys(d.trials[0]).sort()).toEqual(['attrs', 'duration_s', 'finished_at', 'last_step', 'metrics', 'number', 'params', 'started_at', 'state', 'values']);
    expect(d.intermediate.metrics).toEqual(['miou', 'loss']);
    expect(d.intermediate.curves.length).toBe(all.filter((t) => Object.keys(t.intermediate).length > 0).length);
  });

  it('keeps a best-so-far history per objective in the objective direction', async () => {
    const { storage, record } = await demo(60);
    const c = new StudyCache(storage, record);
    await c.sync();
    const h = parse(c).history;
    const miou = h.values.miou;
    const lat = h.values.latency_ms;
    expect(h.numbers.length).toBe(miou.length);
    for (let i = 0; i < miou.length; i++) {
      expect(h.best.miou[i]).toBe(Math.max(...miou.slice(0, i + 1)));
      expect(h.best.latency_ms[i]).toBe(Math.min(...lat.slice(0, i + 1)));
    }
  });

  it('syncs incrementally to exactly what a fresh read builds', async () => {
    const { storage, record } = await demo(40, { running: 3 });
    const c = new StudyCache(storage, record);
    await c.sync();
    const before = parse(c);
    expect(before.study.counts.running).toBe(3);
    expect(await c.sync()).toEqual([]);
    expect(c.pageJson()).toBe(JSON.stringify(before));
    // A running trial reports and finishes, and a new one starts.
    const running = (await storage.getTrials(record.id)).filter((t) => t.state === 'running');
    await storage.reportIntermediate(running[0].id, 7, { miou: 0.5, loss: 0.6 });
    await storage.finishTrial(running[1].id, { state: 'complete', values: [0.99, 0.2], metrics: { miou: 0.99, latency_ms: 0.2 } });
    const added = (await storage.createTrial(record.id, { state: 'running', params: { width: 4, depth: 1, lr: 0.001, batch_size: 8, optimizer: 'adam', augment: 'none' } }))!;
    expect((await c.sync()).sort((a, b) => a - b)).toEqual([running[0].number, running[1].number, added.number].sort((a, b) => a - b));
    const fresh = new StudyCache(storage, record);
    await fresh.sync();
    expect(c.pageJson()).toBe(fresh.pageJson());
    const after = parse(c);
    expect(after.trials).toHaveLength(41);
    // The new point dominates everything: it is the whole front now.
    expect(after.pareto.front).toEqual([running[1].number]);
    expect(after.study.version).toBeGreaterThan(before.study.version);
  });

  it('answers selection rules, and throws one line for a bad rule or no feasible trial', async () => {
    const { storage, record } = await demo(60);
    const c = new StudyCache(storage, record);
    await c.sync();
    const d = parse(c);
    expect(d.picks.map((p) => p.rule)).toEqual(['knee', 'best:miou', 'best:latency_ms']);
    const complete = (await storage.getTrials(record.id)).filter((t) => t.state === 'complete');
    const best = d.picks[1];
    expect('trial' in best && best.trial).toBe(complete.reduce((a, b) => (b.values![0] > a.values![0] ? b : a)).number);
    const knee = d.picks[0];
    expect('trial' in knee && knee.trial).toBe(d.pareto.knee);

    const fast = c.pick('latency_ms<=1');
    const feasible = complete.filter((t) => t.values![1] <= 1);
    expect(fast.trial).toBe(feasible.reduce((a, b) => (b.values![0] > a.values![0] ? b : a)).number);
    expect(parse(c, 'latency_ms<=1').pick).toEqual(fast);

    expect(() => c.pick('latency<>5')).toThrow(/^pick rule "latency<>5" is malformed; allowed: /);
    expect(() => c.pick('latncy_ms<=5')).toThrow(/unknown metric "latncy_ms" \(did you mean "latency_ms"\?\)/);
    expect(() => c.pick('latency_ms<=0.01')).toThrow(/no trial satisfies "latency_ms<=0.01" \(of \d+\): the lowest latency_ms seen is [0-9.]+$/);
    expect(() => c.pageJson('best')).toThrow(/needs a single objective/);
  });

  it('gives one trial with its intermediate values and an export snippet of its params', async () => {
    const { storage, record } = await demo(20);
    const c = new StudyCache(storage, record);
    await c.sync();
    const t = (await storage.getTrials(record.id)).find((x) => x.state === 'complete')!;
    const page = c.trialPage(t.number)!;
    expect(page.trial.params).toEqual(t.params);
    expect(Object.keys(page.trial.intermediate)).toHaveLength(9);
    const { parse: parseYaml } = await import('yaml');
    const doc = parseYaml(page.export_yaml);
    expect(doc.params).toEqual(t.params);
    expect(doc.trial).toBe(t.number);
    expect(doc.objectives).toEqual({ miou: t.values![0], latency_ms: t.values![1] });
    expect(c.trialPage(999)).toBeUndefined();
  });

  it('takes param axes from the stored space (log lr, categorical choices), then from what trials hold', async () => {
    const { storage, record } = await demo(30);
    const c = new StudyCache(storage, record);
    await c.sync();
    const d = parse(c);
    const byName = Object.fromEntries(d.params.map((a) => [a.name, a]));
    expect(byName.lr.scale).toBe('log');
    expect(byName.optimizer.categories).toEqual(['adam', 'adamw', 'sgd']);
    expect(byName.batch_size.categories).toEqual(['8', '16', '32']);
    expect(d.parallel.axes.slice(-2).map((a) => [a.name, a.kind])).toEqual([
      ['miou', 'objective'],
      ['latency_ms', 'objective'],
    ]);
    expect(d.parallel.rows).toHaveLength(d.study.counts.complete);

    // A study without a stored space: axes inferred from values.
    const s2 = new MemoryStorage();
    const r2 = await s2.createStudy({ name: 'bare', objectives: [{ name: 'loss', direction: 'minimize' }], seed: 1 });
    for (const [x, kind] of [
      [0.5, 'a'],
      [2, 'b'],
    ] as const) {
      const t = (await s2.createTrial(r2.id, { state: 'running', params: { x, kind } }))!;
      await s2.finishTrial(t.id, { state: 'complete', values: [x] });
    }
    const c2 = new StudyCache(s2, r2);
    await c2.sync();
    const d2 = parse(c2);
    expect(d2.params).toEqual([
      { name: 'x', kind: 'param', scale: 'linear', min: 0.5, max: 2 },
      { name: 'kind', kind: 'param', scale: 'categorical', categories: ['a', 'b'] },
    ]);
    expect(d2.picks).toEqual([{ rule: 'best', trial: 0, reason: 'best loss (min): 0.5', values: { loss: 0.5 } }]);
    expect(d2.pareto.front).toEqual([0]);
  });
});
