// The dashboard's importance panel: its API (per target and method, bad input as one line) and
// the panel in headless Chromium (bars with intervals, two slices and the contour).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { SqliteStorage } from '@segtune/storage';
import { startDashboard, type Dashboard } from '@segtune/dashboard';
import { writeDemoStudy } from '../apps/dashboard/src/demo-study';
import { ensureChromium, launchChromium } from './support/chromium';

let dir: string;
let dbPath: string;
let d: Dashboard;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-dash-importance-'));
  dbPath = join(dir, 'segtune.db');
  const s = new SqliteStorage(dbPath);
  await writeDemoStudy(s, { name: 'unet-demo', trials: 80, seed: 5 });
  await writeDemoStudy(s, { name: 'tiny', trials: 3, seed: 1 });
  await s.close();
  d = await startDashboard({ storage: dbPath, port: 0 });
});

afterAll(async () => {
  await d?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string) => {
  const r = await fetch(d.url + path);
  return { status: r.status, body: await r.json() };
};

describe('importance API', () => {
  it('gives each target its ranking with intervals, and slices and a contour of the two most important params', async () => {
    const first = await get('api/studies/unet-demo/importance');
    expect(first.status).toBe(200);
    expect(first.body.targets).toEqual(['miou', 'latency_ms', 'pareto']);
    expect(first.body.target).toBe('miou');
    expect(first.body.method).toBe('ped-anova');
    const params = first.body.result.params as { name: string; importance: number; low: number; high: number }[];
    expect(params.map((p) => p.name).sort()).toEqual(['augment', 'augment_magnitude', 'batch_size', 'depth', 'lr', 'optimizer', 'width']);
    expect(params.reduce((s, p) => s + p.importance, 0)).toBeCloseTo(1, 6);
    for (let i = 1; i < params.length; i++) expect(params[i - 1].importance).toBeGreaterThanOrEqual(params[i].importance);
    expect(first.body.slices.map((s: { param: string }) => s.param)).toEqual(params.slice(0, 2).map((p) => p.name));
    expect(first.body.contour).toMatchObject({ x: params[0].name, y: params[1].name, bins: 10 });
    const front = await get('api/studies/unet-demo/importance?target=pareto&method=fanova');
    expect(front.status).toBe(200);
    expect(front.body).toMatchObject({ target: 'pareto', method: 'fanova', label: 'non-dominated rank' });
  });

  it('answers bad input and too few trials in one line', async () => {
    const bad = await get('api/studies/unet-demo/importance?target=mio');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^importance: target: no objective named "mio" \(did you mean "miou"\?\); allowed: miou, latency_ms, pareto$/);
    const method = await get('api/studies/unet-demo/importance?method=shap');
    expect(method.status).toBe(400);
    expect(method.body.error).toMatch(/method "shap" is not allowed; allowed: ped-anova, fanova/);
    const tiny = await get('api/studies/tiny/importance');
    expect(tiny.status).toBe(200);
    expect(tiny.body.result).toBeNull();
    expect(tiny.body.error).toMatch(/at least 8 complete trials/);
  });
});

describe('importance panel in headless Chromium', () => {
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

  it('draws the bars, both slices and the contour, and follows the target and method controls', async (ctx) => {
    if (!browser) ctx.skip(`headless Chromium unavailable: ${skip}`);
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(`${d.url}#/study/unet-demo`);
    await page.getByTestId('importance-chart').waitFor();
    expect(await page.getByTestId('importance-row').count()).toBe(7);
    const api = (await get('api/studies/unet-demo/importance')).body;
    expect(await page.getByTestId('importance-row').first().getAttribute('data-param')).toBe(api.result.params[0].name);
    await page.getByTestId('importance-slice-0').waitFor();
    await page.getByTestId('importance-slice-1').waitFor();
    await page.getByTestId('importance-contour').waitFor();
    expect(await page.locator('[data-testid="importance-contour"] rect[fill]').count()).toBeGreaterThan(5);
    await page.getByTestId('importance-method').selectOption('fanova');
    await expect.poll(() => page.getByTestId('importance-chart').textContent()).toMatch(/fanova/);
    await page.getByTestId('importance-target').selectOption('pareto');
    await expect.poll(() => page.getByTestId('importance-chart').textContent()).toMatch(/non-dominated rank/);
    expect(problems).toEqual([]);
    await page.close();
  });
});
