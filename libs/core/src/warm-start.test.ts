import { describe, expect, it } from 'vitest';
import { parseSpace } from '@segtune/space';
import type { Trial } from './trial';
import { joinPriors, mapTrialsToSpace, parseWarmStartSource, warmStartSummary } from './warm-start';

const space = (params: string, objectives = '[{ name: loss, direction: minimize }]') =>
  parseSpace(`name: s\nobjectives: ${objectives}\nparams:\n${params}\nworkload: { kind: module, path: ./w.mjs }\n`).space;

const trial = (number: number, params: Trial['params'], values: number[] | undefined, state: Trial['state'] = 'complete', metrics: Record<string, number> = {}): Trial => ({
  id: number + 100,
  studyId: 7,
  number,
  state,
  params,
  values,
  metrics,
  intermediate: { 1: { loss: 9 } },
  attrs: { worker: 'w' },
  createdAt: 0,
  seq: number + 1,
});

const minimize = [{ name: 'loss', direction: 'minimize' as const }];

describe('mapTrialsToSpace', () => {
  it('keeps values inside the new space, drops the rest, and numbers the kept trials below 0', () => {
    const s = space('  x: { type: float, low: 0, high: 1 }\n  c: { type: categorical, choices: [a, b] }');
    const source = [trial(0, { x: 0.5, c: 'a' }, [1]), trial(1, { x: 2, c: 'a' }, [2]), trial(2, { x: 0.1, c: 'z' }, [3]), trial(3, { x: 0.2, c: 'b' }, undefined, 'failed')];
    const m = mapTrialsToSpace(s, minimize, { objectives: minimize, trials: source, name: 'src' });
    expect(m.trials.map((t) => t.params)).toEqual([{ x: 0.5, c: 'a' }]);
    expect(m.trials[0].number).toBe(-1);
    expect(m.trials[0].values).toEqual([1]);
    expect(m.trials[0].intermediate).toEqual({});
    expect(m.trials[0].attrs).toEqual({ warm_start_from: 'src#0' });
    expect(m.dropped).toEqual({ 'outside the new space': 2, 'not complete': 1 });
    expect(m.total).toBe(4);
  });

  it('gives a new param its default, and drops every trial when a new param has none', () => {
    const source = [trial(0, { x: 0.5 }, [1]), trial(1, { x: 0.25 }, [2])];
    const withDefault = mapTrialsToSpace(space('  x: { type: float, low: 0, high: 1 }\n  y: { type: int, low: 1, high: 9, default: 3 }'), minimize, { objectives: minimize, trials: source });
    expect(withDefault.trials.map((t) => t.params)).toEqual([{ x: 0.5, y: 3 }, { x: 0.25, y: 3 }]);
    expect(withDefault.defaulted).toEqual({ y: 3 });
    const without = mapTrialsToSpace(space('  x: { type: float, low: 0, high: 1 }\n  y: { type: int, low: 1, high: 9 }'), minimize, { objectives: minimize, trials: source });
    expect(without.trials).toEqual([]);
    expect(without.dropped).toEqual({ 'new param "y" has no default': 2 });
    expect(warmStartSummary(['src'], [without])).toBe('warm start: kept 0 of 2 trials from "src"; dropped 2 new param "y" has no default');
  });

  it('ignores a value the new space leaves inactive, and a param the new space lacks', () => {
    const s = space('  opt: { type: categorical, choices: [sgd, adam] }\n  momentum: { type: float, low: 0, high: 0.99, when: { opt: sgd } }');
    const m = mapTrialsToSpace(s, minimize, { objectives: minimize, trials: [trial(0, { opt: 'adam', momentum: 5, gone: 1 }, [1])] });
    expect(m.trials.map((t) => t.params)).toEqual([{ opt: 'adam' }]);
  });

  it('maps objective values by name, from the metrics when the source did not optimise them', () => {
    const target = [{ name: 'iou', direction: 'maximize' as const }, { name: 'loss', direction: 'minimize' as const }];
    const s = space('  x: { type: float, low: 0, high: 1 }', '[{ name: iou, direction: maximize }, { name: loss, direction: minimize }]');
    const m = mapTrialsToSpace(s, target, { objectives: minimize, trials: [trial(0, { x: 0.5 }, [0.3], 'complete', { iou: 0.8, loss: 0.3 }), trial(1, { x: 0.5 }, [0.2])] });
    expect(m.trials.map((t) => t.values)).toEqual([[0.8, 0.3]]);
    expect(m.dropped).toEqual({ 'no value for objective "iou"': 1 });
  });

  it('joins several sources below 0 in order and says what it kept in one line', () => {
    const s = space('  x: { type: float, low: 0, high: 1 }');
    const a = mapTrialsToSpace(s, minimize, { objectives: minimize, trials: [trial(0, { x: 0.1 }, [1]), trial(1, { x: 0.2 }, [1])] });
    const b = mapTrialsToSpace(s, minimize, { objectives: minimize, trials: [trial(0, { x: 0.3 }, [1]), trial(1, { x: 3 }, [1])] });
    expect(joinPriors([a, b]).map((t) => [t.number, t.params.x])).toEqual([[-3, 0.1], [-2, 0.2], [-1, 0.3]]);
    const line = warmStartSummary(['a', 'b'], [a, b]);
    expect(line).toBe('warm start: kept 3 of 4 trials from "a", "b"; dropped 1 outside the new space');
    expect(line.includes('\n')).toBe(false);
  });
});

describe('parseWarmStartSource', () => {
  it('splits STUDY@STORAGE at the first @', () => {
    expect(parseWarmStartSource('small')).toEqual({ study: 'small' });
    expect(parseWarmStartSource('small@results/old.db')).toEqual({ study: 'small', storage: 'results/old.db' });
    expect(parseWarmStartSource('s@postgresql://u@h/db')).toEqual({ study: 's', storage: 'postgresql://u@h/db' });
    expect(parseWarmStartSource('@x')).toBeUndefined();
    expect(parseWarmStartSource('s@')).toBeUndefined();
  });
});
