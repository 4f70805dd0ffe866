// The faults injected by tests/fault-injection.test.ts and bench/reliability.ts, and the state
// and reason each must end a trial with. The fixtures tests/fixtures/fault-command.mjs and
// fault-module.mjs act them out.
import { Rng } from '@segtune/core';

export type Expected = { state: string; reason?: string; error?: RegExp };

export const COMMAND_FAULTS: Record<string, Expected> = {
  ok: { state: 'complete' },
  throw: { state: 'failed', reason: 'error', error: /exited with code 1: .*ValueError: injected failure/ },
  hang: { state: 'failed', reason: 'timeout', error: /trial timed out after \d+ (s|ms)/ },
  exit: { state: 'failed', reason: 'error', error: /exited with code 3/ },
  oom: { state: 'failed', reason: 'oom', error: /CUDA out of memory/ },
  nan: { state: 'failed', reason: 'non-finite', error: /objective "value" is NaN/ },
  garbage: { state: 'failed', reason: 'no-result', error: /without a result line.*stdout: .*value = 0\.25 \(done\)/ },
  silent: { state: 'failed', reason: 'no-result', error: /without a result line/ },
  background: { state: 'complete' },
  sigkill: { state: 'failed', reason: 'crash', error: /was killed by SIGKILL/ },
};

export const MODULE_FAULTS: Record<string, Expected> = {
  ok: { state: 'complete' },
  throw: { state: 'failed', reason: 'error', error: /injected failure in trial \d+/ },
  hang: { state: 'failed', reason: 'timeout', error: /trial timed out after \d+ (s|ms)/ },
  exit: { state: 'failed', reason: 'crash', error: /exited with code 3/ },
  oom: { state: 'failed', reason: 'oom', error: /ran out of memory/ },
  nan: { state: 'failed', reason: 'non-finite', error: /objective "value" is NaN/ },
  garbage: { state: 'failed', reason: 'error', error: /objective "value" is the string "low"/ },
  silent: { state: 'failed', reason: 'error', error: /returned undefined/ },
};

/** Each fault `times` times (ok twice as often), in an order shuffled by the seed. */
export function faultPlan(faults: Record<string, Expected>, seed: number, times = 2): { fault: string; x: number }[] {
  const list = Object.keys(faults).flatMap((f) => Array<string>(f === 'ok' ? 2 * times : times).fill(f));
  const rng = new Rng(seed);
  return rng.shuffle(list).map((fault) => ({ fault, x: Math.round(rng.uniform(0, 1) * 1000) / 1000 }));
}

export function faultSpace(name: string, faults: Record<string, Expected>, workload: string, runs: { fault: string; x: number }[]): string {
  return `name: ${name}
objectives: [{ name: value, direction: minimize }]
params:
  fault: { type: categorical, choices: [${Object.keys(faults).join(', ')}] }
  x: { type: float, low: 0, high: 1 }
sampler: { kind: random }
workload: ${workload}
trials: ${runs.length}
enqueue:
${runs.map((r) => `  - { fault: ${r.fault}, x: ${r.x} }`).join('\n')}
`;
}
