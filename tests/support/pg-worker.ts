// A `segtune worker` process for tests/distributed.test.ts: the same runWorker the CLI calls,
// started as a real child process (`node --import tsx tests/support/pg-worker.ts JSON`).
// With SEGTUNE_TEST_BARRIER set, it prints "ready" and waits for that file to appear, so that
// several workers start at the same moment.
import { existsSync } from 'node:fs';
import { isUserError } from '@segtune/core';
import { runWorker, type WorkerOptions } from '../../apps/cli/src/commands/worker';

const options = JSON.parse(process.argv[2]) as WorkerOptions;
const barrier = process.env.SEGTUNE_TEST_BARRIER;
if (barrier) {
  process.stdout.write('ready\n');
  while (!existsSync(barrier)) await new Promise((r) => setTimeout(r, 10));
}
try {
  const result = await runWorker(options);
  process.exitCode = result.exitCode;
} catch (e) {
  process.stderr.write(`segtune worker: ${(e as Error).message}\n`);
  process.exitCode = isUserError(e) ? 2 : 1;
}
