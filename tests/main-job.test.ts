// The README's main job, shortened: the quick U-Net search on the real executor (worker
// threads, wasm backend with segtune's training kernels), ending with the Pareto artifacts.
// It runs as on a fresh machine, with an empty segtune cache (no native TensorFlow set up); the
// same search on native TensorFlow is in tensorflow-backend.test.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, repoRoot } from './support/cli';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-main-job-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the main job', () => {
  it('searches unet-seg-quick on worker threads and writes the Pareto plot and the knee export', () => {
    const space = join(repoRoot, 'search-spaces/unet-seg-quick.yaml');
    const r = runCli(['search', space, '--trials', '4', '--workers', '2', '--json'], { cwd: dir, timeoutMs: 600_000, env: { SEGTUNE_HOME: join(dir, 'empty-home') } });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.trials).toHaveLength(4);
    const finished = doc.trials.filter((t: { state: string }) => t.state === 'complete' || t.state === 'pruned');
    expect(finished).toHaveLength(4);
    for (const t of doc.trials) {
      expect(t.attrs.backend).toBe('wasm');
      expect(t.attrs.worker).toEqual(expect.any(String));
      expect(Object.keys(t.intermediate).length).toBeGreaterThan(0);
    }
    const complete = doc.trials.filter((t: { state: string }) => t.state === 'complete');
    expect(complete.length).toBeGreaterThan(0);
    for (const t of complete) {
      expect(t.values.miou).toBeGreaterThanOrEqual(0);
      expect(t.values.miou).toBeLessThanOrEqual(1);
      expect(t.values.latency_ms).toBeGreaterThan(0);
    }
    for (const f of ['pareto.svg', 'pareto.png', 'export-knee.yaml']) expect(existsSync(join(dir, 'results/unet-seg-quick', f)), f).toBe(true);
  }, 660_000);
});
