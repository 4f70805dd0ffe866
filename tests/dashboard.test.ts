// The dashboard end to end: real HTTP (token, Host check, errors), live updates over server-sent
// events while another process writes the same SQLite file, and the page in headless Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { UserError } from '@segtune/core';
import { SqliteStorage } from '@segtune/storage';
import { paretoSummary } from '@segtune/pareto';
import { startDashboard, type Dashboard, type StudyPageData, type UpdateEvent } from '@segtune/dashboard';
import { writeDemoStudy } from '../apps/dashboard/src/demo-study';
import { repoRoot } from './support/cli';
import { ensureChromium, launchChromium } from './support/chromium';

let dir: string;
let dbPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-dashboard-'));
  dbPath = join(dir, 'segtune.db');
  const s = new SqliteStorage(dbPath);
  await writeDemoStudy(s, { name: 'unet-demo', trials: 50, seed: 5 });
  await s.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** GET with any headers (fetch cannot set Host). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard over HTTP', () => {
  it('with a token: 401 without it, 200 with the header or the session cookie, on every route; the query token only buys the cookie, once', async () => {
    const token = 'tok-3f9a1c77e2';
    const d = await startDashboard({ storage: dbPath, port: 0, token });
    try {
      for (const path of ['', 'api/studies', 'api/studies/unet-demo', 'api/studies/unet-demo/trials/0', 'api/studies/unet-demo/events', 'api/nothing']) {
        const r = await get(d.url + path);
        expect(r.status, path).toBe(401);
        expect(JSON.parse(r.body).error).toMatch(/^unauthorized: this dashboard needs its token/);
        expect((await get(d.url + path, { authorization: 'Bearer wrong-token-123' })).status, path).toBe(401);
        expect((await get(d.url + path, { cookie: 'segtune_session=forged' })).status, path).toBe(401);
      }
      // The query token: accepted by the page alone, exchanged for an HttpOnly cookie and a
      // redirect to the page without it (history and referrers never keep it).
      expect((await get(`${d.url}api/studies?token=${token}`)).status).toBe(401);
      expect((await get(`${d.url}?token=wrong-token-123`)).status).toBe(401);
      const exchange = await get(d.openUrl);
      expect(exchange.status).toBe(303);
      expect(exchange.headers.location).toBe('/');
      const cookie = String(exchange.headers['set-cookie']);
      expect(cookie).toMatch(/^segtune_session=[\w-]{30,}; HttpOnly; SameSite=Strict; Path=\/$/);
      expect(cookie).not.toContain(token);
      const session = cookie.split(';')[0];
      const page = await get(d.url, { cookie: session });
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/^<!doctype html>/);
      expect(page.body).not.toContain(token);
      // Scripts by hash only: no 'unsafe-inline' script.
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*';/);
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      const script = /<script>([\s\S]*)<\/script>/.exec(page.body)![1];
      const { createHash } = await import('node:crypto');
      expect(csp).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      // Nothing in the page points anywhere else.
      expect(page.body).not.toMatch(/(src|href)=["']?https?:/i);
      expect((await get(`${d.url}api/studies`, { cookie: session })).status).toBe(200);
      const study = await get(`${d.url}api/studies/unet-demo`, { authorization: `Bearer ${token}` });
      expect(study.status).toBe(200);
      expect((JSON.parse(study.body) as StudyPageData).trials).toHaveLength(50);
    } finally {
      await d.close();
    }
  });

  it('refuses a non-loopback host without a token, and answers loopback only to loopback Host headers', async () => {
    await expect(startDashboard({ storage: dbPath, host: '0.0.0.0', port: 0 })).rejects.toThrow(UserError);
    await expect(startDashboard({ storage: dbPath, host: '0.0.0.0', port: 0 })).rejects.toThrow(/^--host: listening on 0\.0\.0\.0 exposes the dashboard beyond this machine; give --token/);
    await expect(startDashboard({ storage: join(dir, 'missing.db'), port: 0 })).rejects.toThrow(/^--storage: .*missing\.db does not exist \(this command only reads a storage/);
    await expect(startDashboard({ storage: dbPath, port: 'eighty' })).rejects.toThrow(/^--port: "eighty" is not a port; allowed: an integer from 0 to 65535/);
    const d = await startDashboard({ storage: dbPath, port: 0 });
    try {
      expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await get(`${d.url}api/studies`)).status).toBe(200);
      expect((await get(`${d.url}api/studies`, { host: 'attacker.example' })).status).toBe(403);
      // A second dashboard on the same port: one line naming the flag.
      await expect(startDashboard({ storage: dbPath, port: d.port })).rejects.toThrow(new RegExp(`^--port: ${d.port} is already in use on 127\\.0\\.0\\.1`));
    } finally {
      await d.close();
    }
  });

  it('answers bad input with one line: unknown study or route (a bare 404), bad rule (400), no feasible trial (400)', async () => {
    const d = await startDashboard({ storage: dbPath, port: 0 });
    try {
      // A 404 names neither the storage nor the studies it holds.
      for (const path of ['api/studies/unet-dmeo', 'api/studies/unet-dmeo/events', 'api/nothing', 'api/studies/unet-demo/trials/50']) {
        const unknown = await get(d.url + path);
        expect(unknown.status, path).toBe(404);
        expect(JSON.parse(unknown.body), path).toEqual({ error: 'not found' });
      }
      const bad = await get(`${d.url}api/studies/unet-demo?pick=${encodeURIComponent('latency<>5')}`);
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).error).toMatch(/^pick rule "latency<>5" is malformed; allowed: /);
      const unknownMetric = await get(`${d.url}api/studies/unet-demo/pick?rule=${encodeURIComponent('accuracy>=0.9')}`);
      expect(unknownMetric.status).toBe(400);
      expect(JSON.parse(unknownMetric.body).error).toMatch(/^pick rule "accuracy>=0.9" names unknown metric "accuracy"/);
      const none = await get(`${d.url}api/studies/unet-demo/pick?rule=${encodeURIComponent('latency_ms<=0.001')}`);
      expect(none.status).toBe(400);
      expect(JSON.parse(none.body).error).toMatch(/^no trial satisfies "latency_ms<=0.001" \(of \d+\): the lowest latency_ms seen is [0-9.]+$/);
      const ok = await get(`${d.url}api/studies/unet-demo?pick=${encodeURIComponent('latency_ms<=2')}`);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).pick.reason).toMatch(/^best miou \([0-9.]+\) of \d+ trials with latency_ms<=2$/);
    } finally {
      await d.close();
    }
  });
});

/** Reads server-sent events from a URL until `until` says stop. */
async function readEvents(url: string, signal: AbortSignal, onEvent: (name: string, data: unknown) => void): Promise<void> {
  const res = await fetch(url, { signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name && data) onEvent(name, JSON.parse(data));
      }
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  }
}

// A separate process writes trials into the same file while the dashboard reads it: its own
// SqliteStorage, the search's code path. It prints one JSON line: trials written, errors seen.
const WRITER = `
import { SqliteStorage } from '@segtune/storage';
const [path, name, count, pauseMs] = process.argv.slice(-4);
const s = new SqliteStorage(path);
const study = await s.getStudy(name);
const errors = [];
let written = 0;
for (let i = 0; i < Number(count); i++) {
  try {
    const t = await s.createTrial(study.id, { state: 'running', params: { width: 8, depth: 2, lr: 0.001 * (i + 1), batch_size: 16, optimizer: 'adam', augment: 'none' } });
    for (let e = 0; e < 3; e++) await s.reportIntermediate(t.id, e, { miou: 0.2 * (e + 1), loss: 1 - 0.2 * e });
    await s.finishTrial(t.id, { state: 'complete', values: [0.5 + i / 1000, 1 + i / 100], metrics: { miou: 0.5 + i / 1000, latency_ms: 1 + i / 100 } });
    written++;
  } catch (e) {
    errors.push(String(e.code ?? '') + ' ' + e.message);
  }
  await new Promise((r) => setTimeout(r, Number(pauseMs)));
}
await s.close();
console.log(JSON.stringify({ written, errors }));
`;

function runWriter(path: string, study: string, count: number, pauseMs: number): Promise<{ written: number; errors: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER, path, study, String(count), String(pauseMs)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`writer exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

describe('dashboard beside a running search', () => {
  it('pushes live updates over SSE while another process writes, and the writer never waits on it', async () => {
    const path = join(dir, 'live.db');
    const s = new SqliteStorage(path);
    await writeDemoStudy(s, { name: 'live', trials: 10, seed: 2, curves: false });
    await s.close();
    const d = await startDashboard({ storage: path, port: 0, pollMs: 100 });
    const events: UpdateEvent[] = [];
    const abort = new AbortController();
    try {
      const stream = readEvents(`${d.url}api/studies/live/events`, abort.signal, (name, data) => {
        if (name === 'update' || name === 'hello') events.push(data as UpdateEvent);
      });
      // Readers hammer the page API the whole time the writer runs.
      let reads = 0;
      let writerDone = false;
      const reader = (async () => {
        while (!writerDone) {
          const r = await get(`${d.url}api/studies/live`);
          expect(r.status).toBe(200);
          reads++;
        }
      })();
      const result = await runWriter(path, 'live', 40, 15);
      writerDone = true;
      await reader;
      expect(result).toEqual({ written: 40, errors: [] });
      expect(reads).toBeGreaterThan(0);
      // The last update arrives within a few polls.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && events.at(-1)?.n_trials !== 50) await new Promise((r) => setTimeout(r, 50));
      abort.abort();
      await stream;
      expect(events[0].n_trials).toBe(10);
      const updates = events.slice(1);
      expect(updates.length).toBeGreaterThan(0);
      expect(updates.at(-1)!.n_trials).toBe(50);
      expect(updates.at(-1)!.counts.complete).toBe(updates.at(-1)!.n_trials - updates.at(-1)!.counts.failed - updates.at(-1)!.counts.pruned);
      // Versions only move forward, and every changed trial number is a real one.
      for (let i = 1; i < events.length; i++) expect(events[i].version).toBeGreaterThan(events[i - 1].version);
      expect(new Set(updates.flatMap((u) => u.changed)).size).toBeGreaterThan(0);
      expect(Math.max(...updates.flatMap((u) => u.changed))).toBe(49);
      const data = JSON.parse((await get(`${d.url}api/studies/live`)).body) as StudyPageData;
      expect(data.trials).toHaveLength(50);
      expect(data.trials.slice(10).every((t) => t.state === 'complete')).toBe(true);
    } finally {
      abort.abort();
      await d.close();
    }
  });
});

describe('dashboard in headless Chromium', () => {
  let browser: Browser | undefined;
  let skip: string | undefined;
  beforeAll(async () => {
    const c = await ensureChromium();
    if (!c.ok) skip = c.reason;
    else browser = await launchChromium(c.path);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows 50 rows, the Pareto front, a clicked point\'s params and export, and live updates', async (ctx) => {
    if (!browser) ctx.skip(`headless Chromium unavailable: ${skip}`);
    const token = 'browser-token-8d2e';
    const d: Dashboard = await startDashboard({ storage: dbPath, port: 0, token, pollMs: 200 });
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      // The malformed rule below gets its 400 on purpose; anything else is a problem.
      if (m.type() === 'error' && !/status of 400/.test(m.text())) problems.push(m.text());
    });
    // Nothing may be fetched from anywhere but the dashboard.
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(d.url)) foreign.push(r.url());
    });
    const writer = new SqliteStorage(dbPath);
    try {
      const record = (await writer.getStudy('unet-demo'))!;
      const trials = await writer.getTrials(record.id);
      const complete = trials.filter((t) => t.state === 'complete');
      const expectedFront = paretoSummary(complete.map((t) => ({ values: t.values! })), record.objectives).front.map((i) => complete[i].number);
      expect(expectedFront.length).toBeGreaterThan(1);

      await page.goto(`${d.url}?token=${token}`);
      await page.getByTestId('trials-table').waitFor();
      expect(await page.getByTestId('trial-row').count()).toBe(50);
      await expect.poll(() => page.getByTestId('live-status').getAttribute('data-state')).toBe('live');
      expect(await page.getByTestId('study-name').textContent()).toBe('unet-demo');

      const frontPoints = page.getByTestId('pareto-front-point');
      expect(await frontPoints.count()).toBe(expectedFront.length);
      expect((await frontPoints.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-trial'))))).sort((a, b) => a - b)).toEqual([...expectedFront].sort((a, b) => a - b));
      expect(await page.getByTestId('pareto-point').count()).toBe(complete.length - expectedFront.length);

      // Click a front point: its params and its export snippet.
      const target = frontPoints.nth(1);
      const n = Number(await target.getAttribute('data-trial'));
      await target.click();
      await expect.poll(() => page.getByTestId('trial-number').textContent()).toBe(`trial ${n}`);
      const shown = await page.getByTestId('trial-param').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-name'), r.querySelector('td')!.textContent]));
      const params = trials[n].params;
      expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])));
      const snippet = (await page.getByTestId('export-snippet').textContent())!;
      const { parse } = await import('yaml');
      expect(parse(snippet).params).toEqual(params);

      // Sorting and filtering the table.
      await page.getByTestId('trials-filter').fill('state=complete');
      await expect.poll(() => page.getByTestId('trial-row').count()).toBe(complete.length);
      await page.getByTestId('sort-miou').click();
      await page.getByTestId('sort-miou').click();
      const firstRow = await page.getByTestId('trial-row').first().getAttribute('data-trial');
      expect(Number(firstRow)).toBe(complete.reduce((a, b) => (b.values![0] > a.values![0] ? b : a)).number);
      await page.getByTestId('trials-filter').fill('');

      // A constraint rule typed into the page.
      await page.getByTestId('pick-input').fill('latency_ms<=1');
      await page.getByTestId('pick-apply').click();
      const feasible = complete.filter((t) => t.values![1] <= 1);
      const expectedPick = feasible.reduce((a, b) => (b.values![0] > a.values![0] ? b : a)).number;
      await expect.poll(() => page.getByTestId('pick-result').getAttribute('data-trial')).toBe(String(expectedPick));
      mkdirSync(join(repoRoot, 'results'), { recursive: true });
      const shot = join(repoRoot, 'results', 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);

      await page.getByTestId('pick-input').fill('latency<>5');
      await page.getByTestId('pick-apply').click();
      await expect.poll(() => page.getByTestId('pick-result-error').textContent()).toMatch(/is malformed; allowed:/);

      // Live: three more trials written by the search's storage appear without a reload.
      for (let i = 0; i < 3; i++) {
        const t = (await writer.createTrial(record.id, { state: 'running', params: { ...trials[0].params, lr: 0.002 + i / 1000 } }))!;
        await writer.finishTrial(t.id, { state: 'complete', values: [0.5, 2 + i], metrics: { miou: 0.5, latency_ms: 2 + i } });
      }
      await expect.poll(() => page.getByTestId('trials-count').textContent(), { timeout: 10_000 }).toBe('53 of 53 trials');
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await page.close();
      await writer.close();
      await d.close();
    }
  });
});
