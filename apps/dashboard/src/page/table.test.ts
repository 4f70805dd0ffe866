import { describe, expect, it } from 'vitest';
import type { StudyPageData, TrialRowDocument } from '../page-data';
import { columns, parseFilter, tableHtml, visibleRows } from './table';

const row = (number: number, state: TrialRowDocument['state'], miou: number | null, optimizer: string, lr: number): TrialRowDocument => ({
  number,
  state,
  params: { optimizer, lr },
  values: miou === null ? null : { miou },
  metrics: null,
  attrs: {},
  started_at: null,
  finished_at: null,
  duration_s: null,
  last_step: null,
});

const data = {
  study: { objectives: [{ name: 'miou', direction: 'maximize' }] },
  params: [
    { name: 'optimizer', kind: 'param', scale: 'categorical', categories: ['adam', 'sgd'] },
    { name: 'lr', kind: 'param', scale: 'log', min: 1e-4, max: 1e-1 },
  ],
  trials: [row(0, 'complete', 0.7, 'adam', 0.01), row(1, 'pruned', null, 'sgd', 0.001), row(2, 'complete', 0.9, 'sgd', 0.02), row(3, 'complete', 0.8, 'adam', 0.003)],
} as unknown as StudyPageData;

describe('trials table', () => {
  const cols = columns(data);
  const numbers = (filter: string, sort = 'number', desc = false) => visibleRows(data, cols, { filter, sort, desc, page: 0 }).rows.map((r) => r.number);

  it('filters by column comparisons and free text, all terms together', () => {
    expect(numbers('state=complete')).toEqual([0, 2, 3]);
    expect(numbers('miou>=0.8')).toEqual([2, 3]);
    expect(numbers('state=complete optimizer=adam')).toEqual([0, 3]);
    expect(numbers('lr<0.005')).toEqual([1, 3]);
    expect(numbers('sgd')).toEqual([1, 2]);
    expect(numbers('#>1')).toEqual([2, 3]);
    expect(parseFilter('mio>1', cols).error).toMatch(/^unknown column "mio"; columns: #, state, miou, optimizer, lr/);
  });

  it('sorts numbers numerically, missing values last, either way', () => {
    expect(numbers('', 'miou')).toEqual([0, 3, 2, 1]);
    expect(numbers('', 'miou', true)).toEqual([2, 3, 0, 1]);
    expect(numbers('', 'lr')).toEqual([1, 3, 0, 2]);
  });

  it('renders one row per visible trial with stable test ids', () => {
    const html = tableHtml(data, { filter: 'state=complete', sort: 'number', desc: false, page: 0 }, 2);
    expect(html.match(/data-testid="trial-row"/g)).toHaveLength(3);
    expect(html).toContain('3 of 4 trials');
    expect(html).toContain('<tr data-testid="trial-row" data-trial="2" class="selected">');
  });
});
