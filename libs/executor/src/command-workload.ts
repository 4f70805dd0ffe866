import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { UserError, isPruned, processStartTime, type MetricValues, type Workload } from '@segtune/core';
import type { Params, WorkloadSpec } from '@segtune/space';
import { TrialFailure, isOomMessage } from './failure';
import { killProcessGroup } from './process-group';
import { parseResultLine } from './result-line';

export type CommandSpec = Extract<WorkloadSpec, { kind: 'command' }>;

/** Placeholders every command may use besides its params. */
export const COMMAND_PLACEHOLDERS = ['trial_number', 'seed', 'artifact_dir'] as const;

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.\-]*)\}/g;
const STDERR_TAIL_LINES = 20;

/** The placeholder names an argv element uses. */
export function placeholdersOf(arg: string): string[] {
  const names: string[] = [];
  for (const m of arg.matchAll(PLACEHOLDER)) if (m[1]) names.push(m[1]);
  return names;
}

/**
 * Substitutes `{name}` in each argv element (`{{` and `}}` are literal braces). Each element
 * stays one argument whatever the value holds: no shell ever sees it.
 */
export function substituteArgv(argv: readonly string[], values: Record<string, string | number | boolean | undefined>): string[] {
  return argv.map((arg, i) =>
    arg.replace(PLACEHOLDER, (whole, name: string | undefined) => {
      if (whole === '{{') return '{';
      if (whole === '}}') return '}';
      const v = values[name!];
      if (v === undefined) throw new Error(`argv[${i}] "${arg}" uses {${name}}, which this trial has no value for`);
      return String(v);
    }),
  );
}

/** The folder a command runs in: `cwd` relative to the space file's folder, or that folder. */
export function commandCwd(spec: CommandSpec, spaceDir: string): string {
  return spec.cwd ? resolve(spaceDir, spec.cwd) : spaceDir;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Like `which`: a name with a slash is taken relative to `cwd`, a bare name is looked up on PATH. */
export function findExecutable(command: string, cwd: string, path: string | undefined = process.env.PATH): string | undefined {
  if (command.includes('/')) {
    const file = isAbsolute(command) ? command : resolve(cwd, command);
    return isExecutableFile(file) ? file : undefined;
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(isAbsolute(dir) ? dir : resolve(cwd, dir), command);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

/**
 * Checks a command workload before any trial starts: the program exists and is executable,
 * and, when the space's params are given, every placeholder names one of them.
 */
export function validateCommand(spec: CommandSpec, spaceDir: string, paramNames?: readonly string[]): string {
  const cwd = commandCwd(spec, spaceDir);
  try {
    if (!statSync(cwd).isDirectory()) throw new Error();
  } catch {
    throw new UserError(`workload.cwd: folder ${cwd} not found`);
  }
  const program = substituteSafe(spec.argv[0]);
  const exe = findExecutable(program, cwd, spec.env?.PATH ?? process.env.PATH);
  if (!exe) {
    const where = program.includes('/') ? `at ${resolve(cwd, program)} (or it is not executable)` : 'on PATH';
    throw new UserError(`workload.argv[0]: command "${program}" not found ${where}`);
  }
  if (paramNames) {
    const allowed = new Set<string>([...paramNames, ...COMMAND_PLACEHOLDERS]);
    spec.argv.forEach((arg, i) => {
      for (const name of placeholdersOf(arg)) {
        if (!allowed.has(name)) throw new UserError(`workload.argv[${i}]: unknown placeholder {${name}}; allowed: ${[...allowed].map((n) => `{${n}}`).join(', ')}`);
      }
    });
  }
  return exe;
}

function substituteSafe(program: string): string {
  return program.replace(/\{\{/g, '{').replace(/\}\}/g, '}');
}

function numericValues(obj: Record<string, unknown>): MetricValues {
  const out: MetricValues = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'step' || k === 'final') continue;
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** How long output may still arrive after the command exited (from children holding the pipe). */
const DRAIN_MS = 250;

/** Keeps the last few non-blank lines of a stream, each cut short, for failure messages. */
class Tail {
  private readonly lines: string[] = [];
  constructor(private readonly size: number) {}
  push(line: string): void {
    if (!line.trim()) return;
    this.lines.push(line.length > 200 ? `${line.slice(0, 197)}...` : line);
    if (this.lines.length > this.size) this.lines.shift();
  }
  last(n: number): string[] {
    return this.lines.slice(-n);
  }
}

function isReport(rec: Record<string, unknown>): boolean {
  return rec.final !== true && typeof rec.step === 'number';
}

/**
 * Picks a command's result from the JSON objects it printed: the line marked `"final": true`,
 * else the last line that is not a step report. The result must hold every objective, as a
 * finite number: a missing result fails the trial as `no-result` (with the end of stdout and
 * stderr), a NaN or an infinity as `non-finite`.
 */
export function commandResult(lines: readonly Record<string, unknown>[], objectiveNames: readonly string[], tails: { stdout: readonly string[]; stderr: readonly string[] }): MetricValues {
  const result = lines.findLast((r) => r.final === true) ?? lines.findLast((r) => !isReport(r) && (objectiveNames.length === 0 || objectiveNames.some((n) => n in r)));
  const tail = (label: string, ls: readonly string[]) => `${label}: ${ls.length ? ls.join(' | ') : '(empty)'}`;
  const where = `${tail('stdout', tails.stdout)}; ${tail('stderr', tails.stderr)}`;
  if (!result) {
    const wanted = objectiveNames.length ? objectiveNames.map((n) => `"${n}"`).join(', ') : 'the objectives';
    throw new TrialFailure('no-result', `the command exited 0 without a result line (a JSON object with ${wanted}, or one marked "final": true); ${where}`);
  }
  for (const name of objectiveNames) {
    const v = result[name];
    if (v === undefined) throw new TrialFailure('no-result', `the command's result line has no objective "${name}": ${JSON.stringify(result).slice(0, 200)}`);
    if (typeof v !== 'number') throw new TrialFailure('no-result', `the command's result line has "${name}": ${JSON.stringify(v)?.slice(0, 40)}; expected a number`);
    if (!Number.isFinite(v)) throw new TrialFailure('non-finite', `objective "${name}" is ${String(v)}`);
  }
  return numericValues(result);
}

/**
 * Runs any program as a workload. The argv gets the trial's params substituted; each stdout
 * line that is a JSON object with a numeric `step` is a report; the result is the line marked
 * `"final": true`, else the last other JSON line, and it must hold every objective. The trial
 * ends when the command itself exits (output still in the pipe is read for a moment), and its
 * whole process group is ended then, so a background child can neither hold the trial nor
 * outlive it. A stop or an abort sends SIGTERM to the group, then SIGKILL after
 * `grace_seconds` (default 10). A non-zero exit fails the trial with the end of its stderr.
 */
export function commandWorkload(spec: CommandSpec, options: { spaceDir: string }): Workload {
  const cwd = commandCwd(spec, options.spaceDir);
  const graceMs = (spec.grace_seconds ?? 10) * 1000;

  return async (params: Params, ctx) => {
    const values: Record<string, string | number | boolean | undefined> = {
      trial_number: ctx.trialNumber,
      seed: ctx.seed,
      artifact_dir: ctx.artifactDir,
      ...params,
    };
    const argv = substituteArgv(spec.argv, values);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Python buffers a piped stdout: without this, reports would arrive only at exit.
      PYTHONUNBUFFERED: '1',
      ...spec.env,
      SEGTUNE_TRIAL_NUMBER: String(ctx.trialNumber),
      SEGTUNE_SEED: String(ctx.seed),
      SEGTUNE_PARAMS: JSON.stringify(params),
    };
    if (ctx.artifactDir) env.SEGTUNE_ARTIFACT_DIR = ctx.artifactDir;
    if (ctx.resumeFrom) {
      // Promotion mode: the command loads its checkpoint from there and reports later steps.
      env.SEGTUNE_RESUME_STEP = String(ctx.resumeFrom.step);
      if (ctx.resumeFrom.artifactDir) env.SEGTUNE_RESUME_DIR = ctx.resumeFrom.artifactDir;
      if (ctx.resumeFrom.transfer) env.SEGTUNE_RESUME_TRANSFER = '1';
    }
    // Population-based training: keep a copy of the checkpoint at each of these steps in
    // $SEGTUNE_ARTIFACT_DIR/step-<n>; a resumed trial looks in $SEGTUNE_RESUME_DIR/step-<step> first.
    if (ctx.checkpointSteps?.length) env.SEGTUNE_CHECKPOINT_STEPS = ctx.checkpointSteps.join(',');
    if (ctx.budget) env.SEGTUNE_BUDGET = JSON.stringify(ctx.budget);
    if (ctx.device.backend) env.SEGTUNE_BACKEND = ctx.device.backend;
    const exe = findExecutable(argv[0], cwd, env.PATH);
    if (!exe) throw new Error(`command "${argv[0]}" not found${argv[0].includes('/') ? ` in ${cwd}` : ' on PATH'}`);
    if (ctx.signal.aborted) throw ctx.signal.reason;

    const child = spawn(exe, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // `exit`, not `close`: a background child that keeps the pipes open must not hold the trial.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res, rej) => {
      child.once('error', rej);
      child.once('exit', (code, signal) => res({ code, signal }));
    });
    // Keep the promise from rejecting unobserved while lines are read; it is awaited below.
    exited.catch(() => undefined);
    if (child.pid !== undefined) {
      // The group (its leader is the command) and the leader's start time let a later run end a
      // group that outlived a killed segtune, without ever signalling a reused pid.
      ctx.setAttrs({ command_pid: child.pid, command_pgid: child.pid, command_started: processStartTime(child.pid) ?? null });
    }

    let killTimer: NodeJS.Timeout | undefined;
    let terminating = false;
    const terminate = () => {
      if (terminating || child.pid === undefined) return;
      terminating = true;
      killProcessGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => child.pid !== undefined && killProcessGroup(child.pid, 'SIGKILL'), graceMs);
    };
    ctx.signal.addEventListener('abort', terminate, { once: true });

    const stderrTail = new Tail(STDERR_TAIL_LINES);
    const stdoutTail = new Tail(5);
    const stderrEnded = new Promise<void>((done) => child.stderr!.once('close', done));
    createInterface({ input: child.stderr! }).on('line', (line) => stderrTail.push(line));

    const objects: Record<string, unknown>[] = [];
    let pruned: unknown;
    let reportError: unknown;
    const stdoutLines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    const consume = async () => {
      for await (const raw of stdoutLines) {
        stdoutTail.push(raw);
        if (terminating) continue;
        const rec = parseResultLine(raw);
        if (!rec) continue;
        objects.push(rec);
        if (isReport(rec)) {
          try {
            await ctx.report(rec.step as number, numericValues(rec));
          } catch (e) {
            if (isPruned(e)) pruned = e;
            else reportError = e;
            terminate();
          }
        }
      }
    };
    const consumed = consume();
    consumed.catch(() => undefined);
    try {
      const { code, signal } = await exited;
      // Output the command wrote just before exiting may still be in the pipe; a background
      // child holding the pipe open gets only this long.
      await Promise.race([Promise.all([consumed, stderrEnded]), new Promise((done) => setTimeout(done, DRAIN_MS).unref())]);
      if (child.pid !== undefined) killGroupOnly(child.pid);
      // Readline ends on the stream's end, not on its destruction: close it, which ends the loop.
      stdoutLines.close();
      child.stdout!.destroy();
      child.stderr!.destroy();
      await consumed;
      if (pruned) throw pruned;
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (reportError) throw reportError;
      if (code !== 0) {
        const tail = stderrTail.last(5).join(' | ');
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const text = `command ${how}${tail ? `: ${tail}` : ' (no stderr)'}`;
        // Killed by a signal nobody here sent (itself, the kernel): a crash, unless it said OOM.
        if (signal && !isOomMessage(text)) throw new TrialFailure('crash', text);
        throw new Error(text);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EACCES') {
        throw new Error(`command "${argv[0]}" could not be started: ${(e as Error).message}`);
      }
      throw e;
    } finally {
      clearTimeout(killTimer);
      ctx.signal.removeEventListener('abort', terminate);
      // Leave nothing of the command behind (its data loaders, say) once the trial is over.
      if (child.pid !== undefined) killGroupOnly(child.pid);
    }
    return commandResult(objects, ctx.objectiveNames ?? [], { stdout: stdoutTail.last(3), stderr: stderrTail.last(3) });
  };
}

/** Kills what is left of a process group; never a lone pid, which may since have been reused. */
function killGroupOnly(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone: nothing left behind.
  }
}
