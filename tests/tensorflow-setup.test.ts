// `segtune setup tensorflow` itself: reuse of a ready build, one line per bad input or missing
// prerequisite, and an interrupted set-up that leaves nothing half-ready and is redone.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QUIET_LOADER_ID } from '../libs/seg/src/backend/quiet-load';
import { findInstall } from '../libs/seg/src/backend/tensorflow-cache';
import { cliBin, repoRoot, runCli } from './support/cli';

const home = mkdtempSync(join(tmpdir(), 'segtune-setup-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const installed = findInstall('cpu');
const ready = installed !== undefined;

describe('segtune setup tensorflow', () => {
  it.skipIf(!ready)('reuses a ready build in seconds and says where it is', () => {
    const r = runCli(['setup', 'tensorflow', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { built: boolean; seconds: number; probe: { ok: boolean; tfVersion: string }; dir: string };
    expect(doc.built).toBe(false);
    expect(doc.probe).toMatchObject({ ok: true, tfVersion: expect.stringMatching(/^2\.\d+\.\d+$/) });
    expect(doc.seconds).toBeLessThan(60);
  });

  it.skipIf(!ready)('a cached install whose quiet loader is from another segtune gets a new loader, not a new build', () => {
    // A second cache holding the same install (its 800 MB of wheel files linked, not copied).
    const other = mkdtempSync(join(tmpdir(), 'segtune-setup-stale-'));
    try {
      const dir = join(other, 'tensorflow', installed!.dir.split('/').at(-1)!);
      mkdirSync(dir, { recursive: true });
      for (const part of ['node', 'quiet', 'ready.json']) cpSync(join(installed!.dir, part), join(dir, part), { recursive: true, verbatimSymlinks: true });
      symlinkSync(join(installed!.dir, 'site'), join(dir, 'site'));
      const marker = join(dir, 'ready.json');
      writeFileSync(marker, JSON.stringify({ ...JSON.parse(readFileSync(marker, 'utf8')), quietLoader: 'from-an-older-segtune' }));
      const loader = join(dir, 'quiet', 'quiet_load.node');
      const before = statSync(loader).mtimeMs;

      const r = runCli(['setup', 'tensorflow'], { env: { SEGTUNE_HOME: other } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^setup: the quiet loader in .* is from another segtune version; building it again$/m);
      expect(r.stdout).toMatch(/^already set up: TensorFlow /m);
      expect(JSON.parse(readFileSync(marker, 'utf8')).quietLoader).toBe(QUIET_LOADER_ID);
      expect(statSync(loader).mtimeMs).toBeGreaterThan(before);
      expect(readdirSync(join(other, 'tensorflow')).filter((f) => f.endsWith('.partial') || f.endsWith('.lock'))).toEqual([]);
      // Now current: reused as it is.
      const renewed = statSync(loader).mtimeMs;
      const again = runCli(['setup', 'tensorflow', '--json'], { env: { SEGTUNE_HOME: other } });
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ built: false, probe: { ok: true } });
      expect(statSync(loader).mtimeMs).toBe(renewed);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it.skipIf(!ready)("worker threads loading TensorFlow at once through the quiet loader leave the process's stderr where it was", () => {
    // fd 2 is shared by a process's threads. Without the loader's lock, two threads' redirects
    // interleave and stderr ends up on one's deleted temporary file (3 of 4 runs of this
    // fixture lost it that way); so each of these runs must keep it.
    const lib = join(installed!.packageDir, 'deps', 'lib', 'libtensorflow_cc.so.2');
    for (let run = 0; run < 3; run++) {
      const r = spawnSync(process.execPath, [join(repoRoot, 'tests', 'fixtures', 'quiet-load-threads.cjs'), join(installed!.dir, 'quiet', 'quiet_load.node'), lib, '8'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { before: string; after: string; oks: boolean[] };
      expect(doc.oks).toEqual(Array(8).fill(true));
      expect(doc.after).toBe(doc.before);
      expect(r.stderr).toContain('stderr-still-here');
    }
  });

  it('bad input and missing prerequisites are one line each, exit 2', () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['setup', 'pytorch'], {}, /^segtune: setup: unknown component "pytorch" \(allowed: tensorflow\)$/],
      [['setup', 'tensorflow', '--tf-version', 'latest'], {}, /^segtune: --tf-version: "latest" is not a version such as 2\.\d+\.\d+$/],
      [['setup', 'tensorflow'], { SEGTUNE_HOME: home, SEGTUNE_PYTHON: '/nonexistent/python3' }, /^segtune: \/nonexistent\/python3 is not on PATH \(needed to fetch TensorFlow's wheels with pip/],
      [['setup', 'tensorflow'], { SEGTUNE_HOME: home, npm_config_nodedir: '/nonexistent', PATH: '/nonexistent-bin' }, /^segtune: .* is not on PATH/],
    ];
    for (const [args, env, line] of cases) {
      const r = runCli(args, { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(line);
    }
    // A version PyPI does not have (asks PyPI's index, as the set-up itself does).
    const missing = runCli(['setup', 'tensorflow', '--tf-version', '9.9.9'], { env: { SEGTUNE_HOME: home } });
    expect(missing.code, missing.stderr).toBe(2);
    expect(readdirSync(join(home, 'tensorflow')).filter((f) => f.startsWith('9.9.9'))).toEqual([]);
    expect(missing.stderr.trim().split('\n').at(-1)).toMatch(/^segtune: --tf-version: PyPI has no tensorflow-cpu==9\.9\.9 wheel for this Python and platform; recent: (2\.\d+\.\d+, ){4}2\.\d+\.\d+$/);
    if (!existsSync('/proc/driver/nvidia/version')) {
      const gpu = runCli(['setup', 'tensorflow', '--gpu'], { env: { SEGTUNE_HOME: home, PATH: `/nonexistent-bin:${process.env.PATH}` } });
      if (gpu.code === 2) expect(gpu.stderr.trim()).toMatch(/^segtune: --gpu needs an NVIDIA driver, and none was found/);
    }
  });

  it('an interrupted set-up leaves no ready build, and the next run redoes it', async () => {
    // Killed while it builds: the partial folder and a lock of a dead process stay behind.
    const child = spawn(process.execPath, [cliBin, 'setup', 'tensorflow'], { cwd: repoRoot, env: { ...process.env, SEGTUNE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        if (/extracting the TensorFlow C library/.test(err)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`setup ended before it could be interrupted: ${err}`)));
    });
    await new Promise((r) => child.once('close', r));
    const root = join(home, 'tensorflow');
    expect(readdirSync(root).some((f) => f.endsWith('.partial'))).toBe(true);
    expect(findInstall('cpu', { SEGTUNE_HOME: home })).toBeUndefined();

    const again = runCli(['setup', 'tensorflow', '--json'], { env: { SEGTUNE_HOME: home }, timeoutMs: 600_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ built: true, probe: { ok: true } });
    expect(findInstall('cpu', { SEGTUNE_HOME: home })).toBeDefined();
    expect(readdirSync(root).filter((f) => f.endsWith('.partial') || f.endsWith('.lock'))).toEqual([]);
  }, 660_000);
});
