// A real MLflow tracking server for tests and benchmarks: a pinned MLflow from PyPI in a
// git-ignored virtual environment (.venvs/mlflow, created once by scripts/python-venv.sh, reused
// afterwards), started on a free 127.0.0.1 port with a SQLite backend and artifact serving in a
// temporary folder, stopped by killing its process group.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The MLflow we test against. 3.18.0 is the newest on PyPI, but its mlflow-skinny 3.18.0 is not
 * on the package index these machines reach, so the pin is the newest complete release there.
 */
export const MLFLOW_PIN = 'mlflow==3.17.2';

/** The venv's python, installing MLflow the first time (about a minute); fast afterwards. */
export async function mlflowPython(): Promise<string> {
  const ready = join(root, '.venvs', 'mlflow', '.ready');
  const python = join(root, '.venvs', 'mlflow', 'bin', 'python');
  // Fast path without spawning bash when the venv holds exactly this pin.
  if (existsSync(ready) && readFileSync(ready, 'utf8').trim() === MLFLOW_PIN && existsSync(python)) return python;
  const { stdout } = await execFileP(join(root, 'scripts', 'python-venv.sh'), ['mlflow', MLFLOW_PIN], { cwd: root, timeout: 600_000, maxBuffer: 16 << 20 });
  return stdout.trim().split('\n').pop()!;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const live = new Set<MlflowServer>();
process.once('exit', () => {
  for (const s of live) s.killNow();
});

export class MlflowServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly python: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  get uri(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return join(this.dir, 'server.log');
  }

  /** Installs (once) and starts a server in a fresh temporary folder. */
  static async start(options: { python?: string; port?: number; dir?: string } = {}): Promise<MlflowServer> {
    const python = options.python ?? (await mlflowPython());
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'segtune-mlflow-'));
    const server = new MlflowServer(python, dir, options.port ?? (await freePort()));
    await server.restart();
    return server;
  }

  /** Starts the server (again) on the same port with the same backend store and artifacts. */
  async restart(timeoutMs = 180_000): Promise<void> {
    if (this.child) throw new Error('MLflow server already running');
    const mlflow = join(dirname(this.python), 'mlflow');
    const log = openSync(this.logFile, 'a');
    const child = spawn(
      mlflow,
      [
        'server',
        '--backend-store-uri',
        `sqlite:///${join(this.dir, 'mlflow.db')}`,
        '--artifacts-destination',
        join(this.dir, 'artifacts'),
        '--host',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--workers',
        '1',
      ],
      {
        cwd: this.dir,
        detached: true, // its own process group, so that kill reaches uvicorn's workers too
        stdio: ['ignore', log, log],
        env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', PYTHONUNBUFFERED: '1' },
      },
    );
    closeSync(log);
    this.child = child;
    live.add(this);
    let exitCode: number | null | undefined;
    this.exited = new Promise<void>((res) =>
      child.once('exit', (code) => {
        exitCode = code;
        res();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) break;
      if (await this.healthy()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    const tail = readFileSync(this.logFile, 'utf8').split('\n').filter(Boolean).slice(-8).join(' | ');
    await this.kill();
    throw new Error(`MLflow server did not come up on ${this.uri} (${exitCode !== undefined ? `exited with ${exitCode}` : `no /health within ${timeoutMs} ms`}): ${tail}`);
  }

  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.uri}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok && (await res.text()).trim() === 'OK';
    } catch {
      return false;
    }
  }

  /** Kills the server's whole process group (an outage) and waits until it is gone. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.killNow();
    await this.exited;
    this.child = undefined;
    live.delete(this);
    // The port is closed once the process is gone; make sure before anyone restarts it.
    for (let i = 0; i < 40 && (await this.healthy()); i++) await new Promise((r) => setTimeout(r, 100));
  }

  killNow(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** CPU time (user + system, ms) used so far by the server's process group (Linux /proc). */
  cpuMs(): number {
    const pgid = this.child?.pid;
    if (pgid === undefined) return 0;
    const tick = 10; // ms per clock tick (USER_HZ = 100 on Linux)
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // Fields after the command: state(0) ppid(1) pgrp(2) … utime(11) stime(12).
        if (Number(f[2]) === pgid) total += (Number(f[11]) + Number(f[12])) * tick;
      } catch {
        // The process ended meanwhile.
      }
    }
    return total;
  }

  /** Kills the server and removes its folder. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs tests/support/mlflow-readback.py with MLflow's own client against this server. */
  async readBack(experiment: string): Promise<ReadBack> {
    const script = join(root, 'tests', 'support', 'mlflow-readback.py');
    const { stdout } = await execFileP(this.python, [script, experiment], {
      env: { ...process.env, MLFLOW_TRACKING_URI: this.uri, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' },
      timeout: 120_000,
      maxBuffer: 64 << 20,
    });
    return JSON.parse(stdout) as ReadBack;
  }
}

/** What MLflow's Python client sees: every run of an experiment with params, tags and metric histories. */
export interface ReadBack {
  experiment_id: string;
  runs: {
    run_id: string;
    run_name: string;
    status: string;
    parent: string | null;
    params: Record<string, string>;
    tags: Record<string, string>;
    /** key → [step, value, timestamp][] from MlflowClient.get_metric_history. */
    metrics: Record<string, [number, number, number][]>;
    artifacts: string[];
  }[];
}

/**
 * For test files: a running server, or the reason tests are skipped. With CI set, a failure to
 * install or start MLflow throws (the run fails) instead.
 */
export async function provideMlflowServer(): Promise<{ server: MlflowServer; skip?: undefined } | { server?: undefined; skip: string }> {
  try {
    return { server: await MlflowServer.start() };
  } catch (e) {
    const reason = `MLflow server unavailable: ${(e as Error).message.split('\n')[0]}`;
    if (process.env.CI) throw new Error(reason);
    return { skip: reason };
  }
}
