// The dashboard page: a study list, the study's charts and trials table, the selection rules,
// one trial's details with its export snippet, and live updates over server-sent events.
// Plain DOM; bundled by the server with esbuild (page-bundle.ts), nothing loaded from elsewhere.
import type { ImportanceView, PickDocument, StudyPageData, TrialPageData, UpdateEvent } from '../page-data';
import { historyChart, intermediateChart, parallelChart, paretoChart } from './charts';
import { contourChart, importanceBars, sliceChart } from './importance-charts';
import { esc, fmt } from './svg';
import { tableHtml, type TableState } from './table';

interface StudyListItem {
  name: string;
  objectives: { name: string; direction: string }[];
  counts: Record<string, number>;
  n_trials: number;
}

// The token never reaches the page: the server exchanged it for an HttpOnly cookie, which
// same-origin requests and event streams carry by themselves.

const state = {
  studies: [] as StudyListItem[],
  storage: '',
  study: undefined as string | undefined,
  data: undefined as StudyPageData | undefined,
  selected: null as number | null,
  trial: undefined as TrialPageData | undefined,
  table: { sort: 'number', desc: false, filter: '', page: 0 } as TableState,
  historyObjective: 0,
  metric: '',
  paretoX: 0,
  paretoY: 1,
  colourBy: -1,
  importanceTarget: '',
  importanceMethod: 'ped-anova',
  importance: undefined as ImportanceView | undefined,
  customRule: '',
  customPick: undefined as PickDocument | undefined,
  events: undefined as EventSource | undefined,
  loading: false,
  reloadPending: false,
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin' });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(res.status, `${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new HttpError(res.status, (body as { error?: string }).error ?? `HTTP ${res.status}`);
  return body as T;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const studyPath = (name: string) => `/api/studies/${encodeURIComponent(name)}`;

function shell(): void {
  $('app').innerHTML = `
<header class="top">
  <h1>segtune <span>dashboard</span></h1>
  <span class="storage" data-testid="storage" id="storage"></span>
  <span class="live" data-testid="live-status" id="live" data-state="idle">idle</span>
</header>
<div class="layout">
  <nav data-testid="study-list" id="studies"></nav>
  <main id="main"><p class="empty">Loading studies…</p></main>
</div>`;
  $('studies').addEventListener('click', (e) => {
    const a = (e.target as HTMLElement).closest<HTMLElement>('[data-study]');
    if (!a) return;
    e.preventDefault();
    location.hash = `#/study/${encodeURIComponent(a.dataset.study!)}`;
  });
}

function renderStudies(): void {
  $('storage').textContent = state.storage;
  $('studies').innerHTML =
    `<h2>Studies</h2>` +
    (state.studies.length === 0
      ? '<p class="empty">The storage holds no study yet.</p>'
      : state.studies
          .map(
            (s) =>
              `<a href="#/study/${esc(encodeURIComponent(s.name))}" data-study="${esc(s.name)}" data-testid="study-link" class="${s.name === state.study ? 'active' : ''}"><b>${esc(s.name)}</b><small>${s.n_trials} trials · ${s.counts.complete ?? 0} complete${s.counts.running ? ` · ${s.counts.running} running` : ''}</small><small>${s.objectives.map((o) => `${esc(o.name)} ${o.direction === 'maximize' ? '↑' : '↓'}`).join(', ')}</small></a>`,
          )
          .join(''));
}

async function loadStudies(): Promise<void> {
  const r = await api<{ storage: string; studies: StudyListItem[] }>('/api/studies');
  state.studies = r.studies;
  state.storage = r.storage;
  renderStudies();
}

function studyFromHash(): string | undefined {
  const m = /^#\/study\/(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : undefined;
}

async function openStudy(name: string): Promise<void> {
  const changed = name !== state.study;
  state.study = name;
  if (changed) {
    state.data = undefined;
    state.selected = null;
    state.trial = undefined;
    state.customPick = undefined;
    state.customRule = '';
    state.table = { sort: 'number', desc: false, filter: '', page: 0 };
    state.historyObjective = 0;
    state.metric = '';
    state.paretoX = 0;
    state.paretoY = 1;
    state.colourBy = -1;
    state.importanceTarget = '';
    state.importanceMethod = 'ped-anova';
    state.importance = undefined;
    studySkeleton();
    listen(name);
  }
  renderStudies();
  await refresh();
}

function studySkeleton(): void {
  $('main').innerHTML = `
<section class="summary" data-testid="study-summary" id="summary"></section>
<div class="grid">
  <section class="card" id="card-pareto">
    <div class="card-head"><h2>Pareto front</h2><span class="controls" id="pareto-controls"></span></div>
    <div id="pareto" class="chart"></div>
    <div class="picks" data-testid="picks" id="picks"></div>
    <form class="pick-form" id="pick-form" autocomplete="off">
      <label for="pick-input">Rule</label>
      <input id="pick-input" data-testid="pick-input" placeholder="latency_ms<=5 · knee · best:miou" spellcheck="false">
      <button data-testid="pick-apply" type="submit">Pick</button>
    </form>
    <div id="pick-out"></div>
  </section>
  <section class="card" id="card-trial" data-testid="trial-detail">
    <div class="card-head"><h2>Trial</h2></div>
    <div id="trial"><p class="empty">Click a point or a row to see a trial's params and its export.</p></div>
  </section>
  <section class="card">
    <div class="card-head"><h2>Optimisation history</h2><span class="controls" id="history-controls"></span></div>
    <div id="history" class="chart"></div>
  </section>
  <section class="card">
    <div class="card-head"><h2>Intermediate values</h2><span class="controls" id="intermediate-controls"></span></div>
    <div id="intermediate" class="chart"></div>
  </section>
  <section class="card wide" id="card-importance" data-testid="importance-panel">
    <div class="card-head"><h2>Parameter importance</h2><span class="controls" id="importance-controls"></span></div>
    <div id="importance" class="chart"></div>
    <div class="importance-views"><div id="importance-slice-0"></div><div id="importance-slice-1"></div><div id="importance-contour"></div></div>
  </section>
  <section class="card wide">
    <div class="card-head"><h2>Parallel coordinates</h2><span class="controls" id="parallel-controls"></span></div>
    <div id="parallel" class="chart"></div>
  </section>
  <section class="card wide">
    <div class="card-head"><h2>Trials</h2>
      <input class="filter" id="filter" data-testid="trials-filter" placeholder="filter: state=complete miou>=0.8 adam" spellcheck="false">
    </div>
    <div id="table"></div>
  </section>
</div>`;
  const main = $('main');
  main.addEventListener('click', (e) => {
    const t = e.target as HTMLElement;
    const sort = t.closest<HTMLElement>('[data-sort]');
    if (sort) {
      const key = sort.dataset.sort!;
      state.table.desc = state.table.sort === key ? !state.table.desc : false;
      state.table.sort = key;
      state.table.page = 0;
      renderTable();
      return;
    }
    const pageBtn = t.closest<HTMLElement>('[data-page]');
    if (pageBtn) {
      state.table.page = Number(pageBtn.dataset.page);
      renderTable();
      return;
    }
    const copy = t.closest<HTMLElement>('[data-copy]');
    if (copy) {
      void copyExport();
      return;
    }
    const trial = t.closest<HTMLElement>('[data-trial]');
    if (trial) void select(Number(trial.dataset.trial));
  });
  main.addEventListener('change', (e) => {
    const t = e.target as HTMLSelectElement;
    const v = Number(t.value);
    if (t.id === 'history-objective') state.historyObjective = v;
    else if (t.id === 'intermediate-metric') state.metric = t.value;
    else if (t.id === 'pareto-x') state.paretoX = v;
    else if (t.id === 'pareto-y') state.paretoY = v;
    else if (t.id === 'parallel-colour') state.colourBy = v;
    else if (t.id === 'importance-target' || t.id === 'importance-method') {
      if (t.id === 'importance-target') state.importanceTarget = t.value;
      else state.importanceMethod = t.value;
      void loadImportance();
      return;
    } else return;
    renderCharts();
  });
  let debounce: number | undefined;
  $<HTMLInputElement>('filter').addEventListener('input', (e) => {
    clearTimeout(debounce);
    debounce = window.setTimeout(() => {
      state.table.filter = (e.target as HTMLInputElement).value;
      state.table.page = 0;
      renderTable();
    }, 120);
  });
  $<HTMLFormElement>('pick-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.customRule = $<HTMLInputElement>('pick-input').value.trim();
    void runCustomPick();
  });
}

async function refresh(): Promise<void> {
  const name = state.study;
  if (!name) return;
  if (state.loading) {
    state.reloadPending = true;
    return;
  }
  state.loading = true;
  try {
    const data = await api<StudyPageData>(studyPath(name));
    if (name !== state.study) return;
    state.data = data;
    if (state.customRule) await runCustomPick(false);
    render();
    void loadImportance();
  } catch (e) {
    if (name === state.study) $('main').innerHTML = `<p class="error" data-testid="study-error">${esc((e as Error).message)}</p>`;
  } finally {
    state.loading = false;
    if (state.reloadPending) {
      state.reloadPending = false;
      void refresh();
    }
  }
}

function option(value: string | number, label: string, selected: boolean): string {
  return `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(label)}</option>`;
}

function render(): void {
  const d = state.data;
  if (!d) return;
  const s = d.study;
  const objectives = s.objectives.map((o) => `<span class="obj">${esc(o.name)} ${o.direction === 'maximize' ? '↑ max' : '↓ min'}</span>`).join(' ');
  const chips = (['complete', 'pruned', 'failed', 'running', 'waiting'] as const)
    .filter((k) => s.counts[k] > 0)
    .map((k) => `<span class="chip ${k}" data-testid="count-${k}">${s.counts[k]} ${k}</span>`)
    .join('');
  const strategy = [s.sampler ? `sampler ${esc(s.sampler.kind)}` : '', s.scheduler ? `scheduler ${esc(s.scheduler.kind)}` : '', s.budget ? `budget ${esc(s.budget.name)} ${esc(s.budget.min)}–${esc(s.budget.max)}` : '']
    .filter(Boolean)
    .join(' · ');
  const hv = s.objectives.length >= 2 && d.pareto.points.length ? `<span class="hv" data-testid="hypervolume" title="hypervolume against reference (${d.pareto.reference.map(fmt).join(', ')})">hypervolume ${esc(fmt(d.pareto.hypervolume))}</span>` : '';
  $('summary').innerHTML = `<h2 data-testid="study-name">${esc(s.name)}</h2><div class="meta">${objectives}${s.constraints.length ? ` <span class="constraints">subject to ${esc(s.constraints.join(', '))}</span>` : ''}</div><div class="meta">${strategy}${strategy ? ' · ' : ''}seed ${esc(s.seed)} · ${s.n_trials} trials ${chips} ${hv}</div>`;
  renderCharts();
  renderPicks();
  renderTable();
  renderTrial();
}

function renderCharts(): void {
  const d = state.data;
  if (!d) return;
  const objs = d.study.objectives;
  // Pareto
  if (objs.length >= 2) {
    const opts = (sel: number) => objs.map((o, i) => option(i, o.name, i === sel)).join('');
    $('pareto-controls').innerHTML = `x <select id="pareto-x" data-testid="pareto-x">${opts(state.paretoX)}</select> y <select id="pareto-y" data-testid="pareto-y">${opts(state.paretoY)}</select>`;
  }
  const shownPicks = [...d.picks, ...(state.customPick ? [state.customPick] : [])];
  $('pareto').innerHTML = paretoChart(d.pareto, state.paretoX, state.paretoY, state.selected, shownPicks);
  // History
  const hi = Math.min(state.historyObjective, objs.length - 1);
  $('history-controls').innerHTML = objs.length > 1 ? `<select id="history-objective" data-testid="history-objective">${objs.map((o, i) => option(i, o.name, i === hi)).join('')}</select>` : '';
  $('history').innerHTML = historyChart(d.history, objs[hi].name, objs[hi].direction, state.selected);
  // Intermediate
  const metrics = d.intermediate.metrics;
  if (!metrics.includes(state.metric)) state.metric = metrics[0] ?? '';
  $('intermediate-controls').innerHTML = metrics.length > 1 ? `<select id="intermediate-metric" data-testid="intermediate-metric">${metrics.map((m) => option(m, m, m === state.metric)).join('')}</select>` : '';
  $('intermediate').innerHTML = intermediateChart(d.intermediate, state.metric, state.selected);
  // Parallel coordinates, coloured by the first objective unless chosen.
  const axes = d.parallel.axes;
  const firstObjective = axes.findIndex((a) => a.kind === 'objective');
  if (state.colourBy < 0 || state.colourBy >= axes.length) state.colourBy = Math.max(0, firstObjective);
  $('parallel-controls').innerHTML = `colour by <select id="parallel-colour" data-testid="parallel-colour">${axes.map((a, i) => (a.scale === 'categorical' ? '' : option(i, a.name, i === state.colourBy))).join('')}</select>`;
  $('parallel').innerHTML = parallelChart(d.parallel, state.colourBy, state.selected);
}

/** Fetches the importance panel for the chosen target and method (the server caches it until the study changes). */
async function loadImportance(): Promise<void> {
  const name = state.study;
  if (!name) return;
  const q = new URLSearchParams({ method: state.importanceMethod });
  if (state.importanceTarget) q.set('target', state.importanceTarget);
  try {
    const v = await api<ImportanceView>(`/api/studies/${encodeURIComponent(name)}/importance?${q}`);
    if (name !== state.study) return;
    state.importance = v;
    renderImportance();
  } catch (e) {
    if (name === state.study) $('importance').innerHTML = `<p class="error" data-testid="importance-error">${esc((e as Error).message)}</p>`;
  }
}

function renderImportance(): void {
  const v = state.importance;
  if (!v) return;
  $('importance-controls').innerHTML =
    `${v.targets.length > 1 ? `for <select id="importance-target" data-testid="importance-target">${v.targets.map((t) => option(t, t === 'pareto' ? 'Pareto front' : t, t === v.target)).join('')}</select> ` : ''}` +
    `<select id="importance-method" data-testid="importance-method">${['ped-anova', 'fanova'].map((m) => option(m, m, m === v.method)).join('')}</select>`;
  $('importance').innerHTML = importanceBars(v);
  $('importance-slice-0').innerHTML = sliceChart(v, 0);
  $('importance-slice-1').innerHTML = sliceChart(v, 1);
  const objective = state.data?.study.objectives.find((o) => o.name === v.target);
  $('importance-contour').innerHTML = contourChart(v, objective?.direction === 'maximize');
}

function pickLine(p: PickDocument, testid: string): string {
  if ('error' in p) return `<div class="pick error" data-testid="${testid}-error" data-rule="${esc(p.rule)}"><code>${esc(p.rule)}</code> ${esc(p.error)}</div>`;
  return `<div class="pick" data-testid="${testid}" data-rule="${esc(p.rule)}" data-trial="${p.trial}" title="show trial ${p.trial}"><code>${esc(p.rule)}</code> → <b>trial ${p.trial}</b> <span class="reason">${esc(p.reason)}</span></div>`;
}

function renderPicks(): void {
  const d = state.data;
  if (!d) return;
  $('picks').innerHTML = d.picks.map((p) => pickLine(p, 'pick')).join('');
  $('pick-out').innerHTML = state.customPick ? pickLine(state.customPick, 'pick-result') : '';
  const input = $<HTMLInputElement>('pick-input');
  if (document.activeElement !== input) input.value = state.customRule;
}

async function runCustomPick(rerender = true): Promise<void> {
  const rule = state.customRule;
  const name = state.study;
  if (!name) return;
  if (!rule) state.customPick = undefined;
  else {
    try {
      state.customPick = await api<PickDocument>(`${studyPath(name)}/pick?rule=${encodeURIComponent(rule)}`);
    } catch (e) {
      state.customPick = { rule, error: (e as Error).message };
    }
  }
  if (rerender) {
    renderPicks();
    renderCharts();
  }
}

function renderTable(): void {
  const d = state.data;
  if (!d) return;
  $('table').innerHTML = tableHtml(d, state.table, state.selected);
}

async function select(n: number): Promise<void> {
  const name = state.study;
  if (!name || !Number.isInteger(n)) return;
  state.selected = n;
  renderCharts();
  renderTable();
  try {
    const t = await api<TrialPageData>(`${studyPath(name)}/trials/${n}`);
    if (state.selected !== n || state.study !== name) return;
    state.trial = t;
  } catch (e) {
    $('trial').innerHTML = `<p class="error">${esc((e as Error).message)}</p>`;
    return;
  }
  renderTrial();
}

function kv(entries: [string, unknown][], testid: string, rowTestid: string): string {
  return `<table class="kv" data-testid="${testid}">${entries
    .map(([k, v]) => `<tr data-testid="${rowTestid}" data-name="${esc(k)}"><th>${esc(k)}</th><td data-testid="${rowTestid}-value">${esc(typeof v === 'number' ? String(v) : typeof v === 'object' ? JSON.stringify(v) : String(v))}</td></tr>`)
    .join('')}</table>`;
}

function renderTrial(): void {
  const t = state.trial?.trial;
  if (!t || state.selected !== t.number) return;
  const attrs = Object.entries(t.attrs).filter(([, v]) => v !== undefined && v !== null && v !== '');
  $('trial').innerHTML = `
<div class="trial-head"><b data-testid="trial-number">trial ${t.number}</b> <span class="state" style="--c:var(--${t.state})">${esc(t.state)}</span>${t.duration_s !== null ? ` <span class="muted">${esc(fmt(t.duration_s))} s</span>` : ''}</div>
${t.values ? `<h3>Objectives</h3>${kv(Object.entries(t.values), 'trial-values', 'trial-value')}` : ''}
<h3>Params</h3>${kv(Object.entries(t.params), 'trial-params', 'trial-param')}
${t.metrics && Object.keys(t.metrics).length ? `<details><summary>Metrics (${Object.keys(t.metrics).length})</summary>${kv(Object.entries(t.metrics), 'trial-metrics', 'trial-metric')}</details>` : ''}
${attrs.length ? `<details><summary>Attributes</summary>${kv(attrs, 'trial-attrs', 'trial-attr')}</details>` : ''}
<div class="export-head"><h3>Export</h3><button type="button" data-copy="1" data-testid="copy-export">Copy</button><span class="muted" id="copy-status" data-testid="copy-status"></span></div>
<pre class="export" data-testid="export-snippet">${esc(state.trial!.export_yaml)}</pre>`;
}

async function copyExport(): Promise<void> {
  const text = state.trial?.export_yaml ?? '';
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    // Not a secure context (a remote host over http): fall back to a selection copy.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    ok = document.execCommand('copy');
    area.remove();
  }
  $('copy-status').textContent = ok ? 'copied' : 'select the text and copy it';
}

function setLive(s: 'live' | 'connecting' | 'offline', version?: number): void {
  const el = $('live');
  el.dataset.state = s;
  if (version !== undefined) el.dataset.version = String(version);
  el.textContent = s === 'live' ? '● live' : s === 'connecting' ? '○ connecting…' : '○ offline';
}

function listen(name: string): void {
  state.events?.close();
  const url = `${studyPath(name)}/events`;
  const es = new EventSource(url);
  state.events = es;
  setLive('connecting');
  es.addEventListener('hello', (e) => {
    const ev = JSON.parse((e as MessageEvent).data) as UpdateEvent;
    setLive('live', ev.version);
    // Reconnected after a gap: catch up.
    if (state.data && ev.version !== state.data.study.version) void refresh();
  });
  es.addEventListener('update', (e) => {
    const ev = JSON.parse((e as MessageEvent).data) as UpdateEvent;
    setLive('live', ev.version);
    const item = state.studies.find((s) => s.name === ev.study);
    if (item) {
      item.counts = ev.counts;
      item.n_trials = ev.n_trials;
      renderStudies();
    }
    if (!state.data || ev.version !== state.data.study.version) {
      void refresh().then(() => {
        if (state.selected !== null && ev.changed.includes(state.selected)) void select(state.selected);
      });
    }
  });
  es.addEventListener('studies', () => void loadStudies());
  es.onerror = () => setLive(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
}

async function route(): Promise<void> {
  const wanted = studyFromHash();
  const name = wanted ?? state.studies[0]?.name;
  if (!name) {
    $('main').innerHTML = '<p class="empty" data-testid="no-studies">No studies yet. Start one with <code>segtune search SPACE.yaml</code>; this page lists it as soon as it exists.</p>';
    // No study to stream events from yet: look again shortly.
    setTimeout(() => {
      if (state.study) return;
      void loadStudies()
        .then(route)
        .catch(() => undefined);
    }, 2000);
    return;
  }
  await openStudy(name);
}

async function start(): Promise<void> {
  shell();
  try {
    await loadStudies();
  } catch (e) {
    $('main').innerHTML = `<p class="error" data-testid="load-error">${esc((e as Error).message)}</p>`;
    return;
  }
  window.addEventListener('hashchange', () => void route());
  await route();
}

void start();
