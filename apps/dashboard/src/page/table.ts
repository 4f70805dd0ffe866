// The trials table: sortable by any column, filtered by a small query language, paged so that
// 10,000 trials render as quickly as 50.
//
// Filter: space-separated terms, all of which must hold. `name<op>value` compares a column
// (ops: = != < <= > >=; e.g. `state=complete miou>=0.8 optimizer=adam`); any other word matches
// rows where some cell contains it.
import type { ParamAxis, StudyPageData, TrialRowDocument } from '../page-data';
import { STATE_COLOURS, esc, fmt } from './svg';

export interface Column {
  key: string;
  label: string;
  get(r: TrialRowDocument): number | string | null;
  numeric: boolean;
}

export function columns(data: StudyPageData): Column[] {
  const cols: Column[] = [
    { key: 'number', label: '#', get: (r) => r.number, numeric: true },
    { key: 'state', label: 'state', get: (r) => r.state, numeric: false },
  ];
  for (const o of data.study.objectives) cols.push({ key: o.name, label: `${o.name} ${o.direction === 'maximize' ? '↑' : '↓'}`, get: (r) => r.values?.[o.name] ?? null, numeric: true });
  for (const a of data.params) cols.push(paramColumn(a));
  cols.push({ key: 'duration_s', label: 'duration (s)', get: (r) => r.duration_s, numeric: true });
  cols.push({ key: 'last_step', label: 'last step', get: (r) => r.last_step, numeric: true });
  return cols;
}

function paramColumn(a: ParamAxis): Column {
  return {
    key: a.name,
    label: a.name,
    get: (r) => {
      const v = r.params[a.name];
      return v === undefined ? null : typeof v === 'number' ? v : String(v);
    },
    numeric: a.scale !== 'categorical',
  };
}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';
type Term = { kind: 'cmp'; col: Column; op: Op; value: string } | { kind: 'text'; text: string };

/** Parses a filter; unknown column names come back as an error line. */
export function parseFilter(text: string, cols: readonly Column[]): { terms: Term[]; error?: string } {
  const terms: Term[] = [];
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z_#][\w.\-]*)(<=|>=|!=|=|<|>)(.*)$/.exec(word);
    if (!m) {
      terms.push({ kind: 'text', text: word.toLowerCase() });
      continue;
    }
    const name = m[1] === '#' ? 'number' : m[1];
    const col = cols.find((c) => c.key === name);
    if (!col) return { terms, error: `unknown column "${m[1]}"; columns: ${cols.map((c) => (c.key === 'number' ? '#' : c.key)).join(', ')}` };
    terms.push({ kind: 'cmp', col, op: m[2] as Op, value: m[3] });
  }
  return { terms };
}

function holds(t: Term, r: TrialRowDocument, cols: readonly Column[]): boolean {
  if (t.kind === 'text') return cols.some((c) => {
    const v = c.get(r);
    return v !== null && String(v).toLowerCase().includes(t.text);
  });
  const v = t.col.get(r);
  if (v === null) return t.op === '!=';
  const num = Number(t.value);
  const cmp = typeof v === 'number' && t.value !== '' && Number.isFinite(num) ? v - num : String(v).localeCompare(t.value);
  switch (t.op) {
    case '=':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
  }
}

export interface TableState {
  sort: string;
  desc: boolean;
  filter: string;
  page: number;
}

export const PAGE_SIZE = 50;

export function visibleRows(data: StudyPageData, cols: readonly Column[], st: TableState): { rows: TrialRowDocument[]; error?: string } {
  const { terms, error } = parseFilter(st.filter, cols);
  const rows = terms.length ? data.trials.filter((r) => terms.every((t) => holds(t, r, cols))) : data.trials.slice();
  const col = cols.find((c) => c.key === st.sort) ?? cols[0];
  const dir = st.desc ? -1 : 1;
  rows.sort((a, b) => {
    const va = col.get(a);
    const vb = col.get(b);
    if (va === null || vb === null) return va === vb ? a.number - b.number : va === null ? 1 : -1;
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return c === 0 ? a.number - b.number : dir * c;
  });
  return { rows, error };
}

export function tableHtml(data: StudyPageData, st: TableState, selected: number | null): string {
  const cols = columns(data);
  const { rows, error } = visibleRows(data, cols, st);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const page = Math.min(st.page, pages - 1);
  const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const head = cols
    .map((c) => {
      const arrow = c.key === st.sort ? (st.desc ? ' ▾' : ' ▴') : '';
      return `<th data-testid="sort-${esc(c.key)}" data-sort="${esc(c.key)}" class="${c.numeric ? 'num' : ''}${c.key === st.sort ? ' sorted' : ''}" title="sort by ${esc(c.label)}">${esc(c.label)}${arrow}</th>`;
    })
    .join('');
  const body = shown
    .map((r) => {
      const cells = cols
        .map((c) => {
          const v = c.get(r);
          if (c.key === 'state') return `<td><span class="state" style="--c:${STATE_COLOURS[r.state] ?? '#888'}">${esc(r.state)}</span></td>`;
          return `<td class="${c.numeric ? 'num' : ''}">${esc(typeof v === 'number' ? fmt(v) : (v ?? '—'))}</td>`;
        })
        .join('');
      return `<tr data-testid="trial-row" data-trial="${r.number}"${r.number === selected ? ' class="selected"' : ''}>${cells}</tr>`;
    })
    .join('');
  const pager =
    pages > 1
      ? `<span class="pager"><button data-testid="page-prev" data-page="${page - 1}"${page === 0 ? ' disabled' : ''}>‹ prev</button> page ${page + 1} of ${pages} <button data-testid="page-next" data-page="${page + 1}"${page >= pages - 1 ? ' disabled' : ''}>next ›</button></span>`
      : '';
  return `<div class="table-bar"><span data-testid="trials-count">${rows.length} of ${data.trials.length} trials</span>${pager}${error ? `<span class="error" data-testid="filter-error">${esc(error)}</span>` : ''}</div>
<div class="scroll-x"><table data-testid="trials-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}
