// `segtune setup tensorflow` itself: reuse of a ready build, one line per bad input or missing
// prerequisite, and an interrupted set-up that leaves nothing half-ready and is redone.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findInstall } from '../libs/seg/src/backend/tensorflow-cache';
import { cliBin, repoRoot, runCli } from './support/cli';

const home = mkdtempSync(join(tmpdir(), 'segtune-setup-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const ready = findInstall('cpu') !== undefined;

describe('segtune setup tensorflow', () => {
  it.skipIf(!ready)('reuses a ready build in seconds and says where it is', () => {
    const r = runCli(['setup', 'tensorflow', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { built: boolean; seconds: number; probe: { ok: boolean; tfVersion: string }; dir: string };
    expect(doc.built).toBe(false);
    expect(doc.probe).toMatchObject({ ok: true, tfVersion: expect.stringMatching(/^2\.\d+\.\d+$/) });
    expect(doc.seconds).toBeLessThan(60);
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
