// MLflow after an outage (issue 14, item 11): queued events go out promptly once the server is
// back, a final flush waits for a server that answers, and a resumed study's parent run ends
// FINISHED.
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '@segtune/storage';
import { createMlflowTracker } from '@segtune/tracking';
import { provideMlflowServer, type MlflowServer } from './support/mlflow-server';
import { runDemoStudy } from './support/mlflow-study';
import { bestTrials } from '@segtune/core';

const provided = await provideMlflowServer();
const server = provided.server as MlflowServer;

afterAll(async () => {
  await provided.server?.stop();
});

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe.skipIf(!server)(`MLflow outage${provided.skip ? ` (skipped: ${provided.skip})` : ''}`, () => {
  it('drains the queue within seconds of the server coming back, whatever the back-off reached', async () => {
    const storage = new MemoryStorage();
    const warnings: string[] = [];
    // A back-off far longer than the outage: before, queued events waited for it after the
    // server's return (with the default, up to 30 s); now a 1 s /health probe notices it.
    // Resolves on the tracker's "unreachable" line: the test blocks on it instead of polling a while.
    let sawDown!: () => void;
    const wentDown = new Promise<void>((resolve) => (sawDown = resolve));
    const onWarning = (l: string) => {
      warnings.push(l);
      if (l.startsWith('MLflow unreachable')) sawDown();
    };
    const tracker = createMlflowTracker({ uri: server.uri, storage, onWarning, retryMinMs: 180_000, retryMaxMs: 180_000 });
    let restarted = false;
    try {
      // The whole study runs during the outage: it starts only once the server is confirmed dead.
      await server.kill();
      expect(await server.healthy()).toBe(false);
      await runDemoStudy({ storage, name: 'outage-drain', trials: 4, epochs: 3, stepDelayMs: 50, trackers: [tracker] });
      // (flush returns once every handled event is in the outbox; MLflow being down, it sends none.)
      await tracker.flush(5_000);
      await wentDown;
      // Every event reached the outbox and stays there while MLflow is down.
      expect(await storage.outboxCount('mlflow')).toBe(1 + 4 * (1 + 3 + 1) + 1);
      const downAt = Date.now();
      await server.restart();
      restarted = true;
      const backAt = Date.now();
      // Creating the runs takes seconds on a loaded machine (the parent settles for 2 s); the
      // 180 s back-off would not even have probed yet.
      expect(await waitUntil(async () => (await storage.outboxCount('mlflow')) === 0, Math.max(5_000, downAt + 170_000 - Date.now()))).toBe(true);
      console.log(`outage drain: outbox empty ${((Date.now() - backAt) / 1000).toFixed(1)} s after MLflow was back (${((backAt - downAt) / 1000).toFixed(1)} s restart)`);
      expect(Date.now() - downAt).toBeLessThan(180_000);
      expect(warnings.filter((w) => w.startsWith('MLflow is reachable again'))).toHaveLength(1);
      const back = await server.readBack('outage-drain');
      expect(back.runs.filter((r) => r.tags['segtune.kind'] === 'study')[0].status).toBe('FINISHED');
    } finally {
      await tracker.close();
      if (!restarted) await server.restart();
    }
  }, 240_000);

  it('a resumed study: its parent run is FINISHED when the second run ends, even after an unfinished first run', async () => {
    const storage = new MemoryStorage();
    const first = createMlflowTracker({ uri: server.uri, storage });
    // First run: killed before its end (no study-finished), its parent left RUNNING.
    const { study } = await runDemoStudy({ storage, name: 'resumed', trials: 3, epochs: 2, trackers: [first] });
    await first.flush(30_000);
    await first.close();
    // runDemoStudy ended the study; a kill would not have: reopen it as RUNNING, as a kill leaves it.
    const record = study.record;
    const second = createMlflowTracker({ uri: server.uri, storage });
    const resumed = await runDemoStudy({ storage, name: 'resumed', trials: 6, epochs: 2, trackers: [second], join: true });
    resumed.study.emit({ kind: 'study-started', study: record, spaceFile: 'mlflow-demo.yaml' });
    await second.flush(30_000);
    resumed.study.emit({ kind: 'study-finished', study: record, best: bestTrials(resumed.study.objectives, await resumed.study.trials()) });
    const t0 = Date.now();
    await second.flush(30_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
    await second.close();
    expect(await storage.outboxCount('mlflow')).toBe(0);
    const back = await server.readBack('resumed');
    const parents = back.runs.filter((r) => r.tags['segtune.kind'] === 'study');
    expect(parents).toHaveLength(1);
    expect(parents[0].status).toBe('FINISHED');
    expect(back.runs.filter((r) => r.parent === parents[0].run_id)).toHaveLength(6);
  }, 240_000);
});
