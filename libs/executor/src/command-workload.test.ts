import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPruned, isUserError, type Decision, type MetricValues, type WorkloadContext } from '@segtune/core';
import { commandWorkload, findExecutable, substituteArgv, validateCommand, type CommandSpec } from './command-workload';
import { InlineExecutor } from './inline-executor';
import { isAlive } from './process-group';
import { fixtures, waitGone } from './testing';

const script = join(fixtures, 'report-and-print.mjs');

function context(decide: (step: number) => Decision = () => 'continue', signal = new AbortController().signal, objectiveNames: string[] = ['loss']) {
  const reports: { step: number; values: MetricValues }[] = [];
  const attrs: Record<string, unknown> = {};
  const ctx: WorkloadContext = {
    trialNumber: 4,
    seed: 99,
    budget: undefined,
    signal,
    device: { gpu: null },
    objectiveNames,
    setAttrs: (a) => Object.assign(attrs, a),
    async report(step, values) {
      reports.push({ step, values: values as MetricValues });
      if (decide(step) === 'stop') {
        const e = new Error('stopped');
        e.name = 'Pruned';
        throw e;
      }
    },
  };
  return { ctx, reports, attrs };
}

const spec = (argv: string[], extra: Partial<CommandSpec> = {}): CommandSpec => ({ kind: 'command', argv, ...extra });

describe('substituteArgv', () => {
  it('substitutes params per element and never splits or interprets them', () => {
    expect(substituteArgv(['train', '--lr={lr}', '{name}', '{{literal}}'], { lr: 0.01, name: 'a b; rm -rf /' })).toEqual(['train', '--lr=0.01', 'a b; rm -rf /', '{literal}']);
  });
  it('rejects a placeholder without a value', () => {
    expect(() => substituteArgv(['x', '{depth}'], { lr: 1 })).toThrow(/argv\[1\] "\{depth\}" uses \{depth\}/);
  });
});

describe('commandWorkload', () => {
  it('turns JSON lines into reports and the final line into the result', async () => {
    const w = commandWorkload(spec(['node', script, '--lr', '{lr}', '--steps', '{steps}']), { spaceDir: fixtures });
    const { ctx, reports, attrs } = context();
    const result = await w({ lr: 0.4, steps: 3 }, ctx);
    expect(result).toEqual({ loss: 0.4 / 3, miou: 0.9 });
    expect(reports).toEqual([
      { step: 1, values: { loss: 0.4 } },
      { step: 2, values: { loss: 0.2 } },
      { step: 3, values: { loss: 0.4 / 3 } },
    ]);
    expect(typeof attrs.command_pid).toBe('number');
  });

  it('passes the trial to the command through its environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segtune-cmd-'));
    const file = join(dir, 'env.mjs');
    writeFileSync(file, "console.log(JSON.stringify({ n: Number(process.env.SEGTUNE_TRIAL_NUMBER), seed: Number(process.env.SEGTUNE_SEED), lr: JSON.parse(process.env.SEGTUNE_PARAMS).lr, extra: Number(process.env.EXTRA), arg: Number(process.argv[2]) }));\n");
    const w = commandWorkload(spec(['node', 'env.mjs', '{seed}'], { cwd: dir, env: { EXTRA: '7' } }), { spaceDir: fixtures });
    expect(await w({ lr: 0.5 }, context(undefined, undefined, ['n']).ctx)).toEqual({ n: 4, seed: 99, lr: 0.5, extra: 7, arg: 99 });
  });

  it('stops the command with SIGTERM when the scheduler says stop', async () => {
    const termFile = join(mkdtempSync(join(tmpdir(), 'segtune-cmd-')), 'term');
    const w = commandWorkload(spec(['node', script, '--steps', '1000', '--step-ms', '20', '--term-file', termFile]), { spaceDir: fixtures });
    const { ctx, reports, attrs } = context((step) => (step >= 2 ? 'stop' : 'continue'));
    const error = await Promise.resolve(w({}, ctx)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPruned(error)).toBe(true);
    expect(reports.map((r) => r.step)).toEqual([1, 2]);
    expect(readFileSync(termFile, 'utf8')).toBe('SIGTERM');
    expect(isAlive(attrs.command_pid as number)).toBe(false);
  });

  it('kills a command that ignores SIGTERM after the grace period', async () => {
    const abort = new AbortController();
    const w = commandWorkload(spec(['node', script, '--steps', '100000', '--step-ms', '10', '--ignore-term'], { grace_seconds: 0.3 }), { spaceDir: fixtures });
    const { ctx, attrs } = context(() => 'continue', abort.signal);
    const running = Promise.resolve(w({}, ctx)).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    setTimeout(() => abort.abort(new Error('trial timed out after 1 s')), 150);
    expect(await running).toBe('trial timed out after 1 s');
    expect(isAlive(attrs.command_pid as number)).toBe(false);
  });

  it('fails with the end of stderr when the command exits non-zero', async () => {
    const w = commandWorkload(spec(['node', script, '--steps', '1', '--fail']), { spaceDir: fixtures });
    await expect(Promise.resolve(w({}, context().ctx))).rejects.toThrow(/exited with code 1: Traceback: something broke \| RuntimeError: CUDA out of memory/);
  });

  it('fails when the command prints no values', async () => {
    const w = commandWorkload(spec(['node', '-e', 'console.log("hello")']), { spaceDir: fixtures });
    await expect(Promise.resolve(w({}, context().ctx))).rejects.toThrow(/exited 0 without a result line .*stdout: hello; stderr: \(empty\)/);
  });

  // Each of these was recorded as a complete trial with the last step report's value.
  const outcomeOf = async (program: string, objectiveNames = ['loss']) => {
    const executor = new InlineExecutor({ resolve: async (s) => commandWorkload(s as CommandSpec, { spaceDir: fixtures }) });
    return executor.run({ trialId: 1, trialNumber: 0, params: {}, workload: spec(['node', '-e', program]), spaceDir: fixtures, objectiveNames, seed: 1 }, { onReport: async () => 'continue' });
  };
  it('fails a NaN or infinite result, as Python prints it, as non-finite', async () => {
    const steps = 'console.log(JSON.stringify({ step: 1, loss: 0.5 }));';
    expect(await outcomeOf(`${steps} console.log('{"loss": NaN}')`)).toMatchObject({ state: 'failed', reason: 'non-finite', error: 'objective "loss" is NaN' });
    expect(await outcomeOf(`${steps} console.log('{"loss": -Infinity, "final": true}')`)).toMatchObject({ state: 'failed', reason: 'non-finite', error: 'objective "loss" is -Infinity' });
  });
  it('fails a silent exit, garbage or a truncated result line as no-result, with the output tails', async () => {
    const steps = 'console.log(JSON.stringify({ step: 1, loss: 0.5 }));';
    const silent = await outcomeOf(`${steps} console.error('warming up')`);
    expect(silent).toMatchObject({ state: 'failed', reason: 'no-result' });
    expect((silent as { error: string }).error).toMatch(/stdout: \{"step":1,"loss":0\.5\}; stderr: warming up/);
    expect(await outcomeOf(`${steps} console.log('loss is 0.1 !!')`)).toMatchObject({ state: 'failed', reason: 'no-result' });
    expect(await outcomeOf(`${steps} process.stdout.write('{"loss": 0.')`)).toMatchObject({ state: 'failed', reason: 'no-result' });
    expect(await outcomeOf('')).toMatchObject({ state: 'failed', reason: 'no-result' });
  });
  it('fails a result line that lacks an objective', async () => {
    const out = await outcomeOf(`console.log(JSON.stringify({ loss: 0.1, final: true }))`, ['loss', 'latency_ms']);
    expect(out).toMatchObject({ state: 'failed', reason: 'no-result' });
    expect((out as { error: string }).error).toMatch(/has no objective "latency_ms"/);
    expect(await outcomeOf(`console.log(JSON.stringify({ loss: 0.1, latency_ms: 3 }))`, ['loss', 'latency_ms'])).toMatchObject({ state: 'complete', metrics: { loss: 0.1, latency_ms: 3 } });
  });

  it('ends the trial when the command exits, not when a background child closes its output, and ends that child', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segtune-cmd-'));
    const w = commandWorkload(spec(['sh', '-c', 'sleep 20 & echo $! > bg.pid; echo \'{"loss": 1}\'']), { spaceDir: dir });
    const { ctx, attrs } = context();
    const t0 = Date.now();
    expect(await w({}, ctx)).toEqual({ loss: 1 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    const bg = Number(readFileSync(join(dir, 'bg.pid'), 'utf8'));
    expect(await waitGone(bg)).toBe(true);
    expect(attrs.command_pgid).toBe(attrs.command_pid);
    expect(attrs.command_started).toMatch(/^\d+$/);
  });

  it('fails clearly when the command is not found', async () => {
    const w = commandWorkload(spec(['segtune-no-such-program-xyz', '--x']), { spaceDir: fixtures });
    await expect(Promise.resolve(w({}, context().ctx))).rejects.toThrow('command "segtune-no-such-program-xyz" not found on PATH');
  });

  it('runs under the inline executor with reasons for stop, oom and timeout', async () => {
    const executor = new InlineExecutor({ resolve: async (s) => commandWorkload(s as CommandSpec, { spaceDir: fixtures }), abortGraceMs: 2000 });
    const task = (argv: string[], timeoutMs?: number) => ({ trialId: 1, trialNumber: 0, params: {}, workload: spec(argv), spaceDir: fixtures, objectiveNames: ['loss'], seed: 1, timeoutMs });
    expect(await executor.run(task(['node', script, '--steps', '2']), { onReport: async () => 'continue' })).toMatchObject({ state: 'complete', metrics: { loss: 0.05, miou: 0.6 } });
    expect(await executor.run(task(['node', script, '--steps', '50']), { onReport: async () => 'stop' })).toMatchObject({ state: 'pruned', step: 1 });
    expect(await executor.run(task(['node', script, '--steps', '1', '--fail']), { onReport: async () => 'continue' })).toMatchObject({ state: 'failed', reason: 'oom' });
    expect(await executor.run(task(['node', script, '--steps', '100000', '--step-ms', '10'], 200), { onReport: async () => 'continue' })).toMatchObject({
      state: 'failed',
      reason: 'timeout',
      error: 'trial timed out after 200 ms',
    });
  });
});

describe('validateCommand', () => {
  it('finds a program on PATH or by a path relative to the working folder', () => {
    expect(validateCommand(spec(['node', 'x']), fixtures)).toBe(findExecutable('node', fixtures));
    const dir = mkdtempSync(join(tmpdir(), 'segtune-cmd-'));
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho {}\n');
    chmodSync(join(dir, 'run.sh'), 0o755);
    expect(validateCommand(spec(['./run.sh']), dir)).toBe(join(dir, 'run.sh'));
  });

  it('rejects a command that is not found, in one line', () => {
    let error: unknown;
    try {
      validateCommand(spec(['segtune-no-such-program-xyz']), fixtures);
    } catch (e) {
      error = e;
    }
    expect(isUserError(error)).toBe(true);
    expect((error as Error).message).toBe('workload.argv[0]: command "segtune-no-such-program-xyz" not found on PATH');
    expect(() => validateCommand(spec(['./missing.sh']), fixtures)).toThrow(/command "\.\/missing\.sh" not found at .*missing\.sh/);
  });

  it('rejects a non-executable file, a missing cwd and unknown placeholders', () => {
    expect(() => validateCommand(spec(['./faults.mjs']), fixtures)).toThrow(/not found at .* \(or it is not executable\)/);
    expect(() => validateCommand(spec(['node'], { cwd: 'no-such-dir' }), fixtures)).toThrow(/workload\.cwd: folder .*no-such-dir not found/);
    expect(() => validateCommand(spec(['node', '{lr}', '{widht}']), fixtures, ['lr', 'width'])).toThrow(/workload\.argv\[2\]: unknown placeholder \{widht\}; allowed: \{lr\}, \{width\}, \{trial_number\}/);
    expect(validateCommand(spec(['node', '{lr}', '{seed}']), fixtures, ['lr'])).toBeTruthy();
  });
});
