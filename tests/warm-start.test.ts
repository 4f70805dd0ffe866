import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, repoRoot } from './support/cli';

// --warm-start through the real CLI, and --stop-when with the reason shown by status.

let dir: string;
const SPACE = (name: string, params: string, sampler = 'tpe') => `name: ${name}
objectives: [{ name: value, direction: minimize }]
params:
${params}
sampler: { kind: ${sampler} }
workload: { kind: module, path: ./slow-quadratic.mjs }
`;
const env = { SEGTUNE_TEST_DELAY_MS: '0' };
const cli = (args: string[]) => runCli(args, { cwd: dir, env });
const attrsOf = (db: string, study: string) => {
  const d = new Database(join(dir, db), { readonly: true });
  try {
    return JSON.parse((d.prepare('SELECT attrs FROM studies WHERE name = ?').get(study) as { attrs: string }).attrs);
  } finally {
    d.close();
  }
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-warm-'));
  copyFileSync(join(repoRoot, 'tests/fixtures/slow-quadratic.mjs'), join(dir, 'slow-quadratic.mjs'));
  writeFileSync(join(dir, 'src.yaml'), SPACE('src', '  x: { type: float, low: -5, high: 5 }\n  y: { type: float, low: -5, high: 5 }', 'random'));
  writeFileSync(join(dir, 'dst.yaml'), SPACE('dst', '  x: { type: float, low: 0, high: 5 }\n  y: { type: float, low: -5, high: 5 }\n  z: { type: int, low: 1, high: 4, default: 2 }'));
  writeFileSync(join(dir, 'nodef.yaml'), SPACE('nodef', '  x: { type: float, low: -5, high: 5 }\n  y: { type: float, low: -5, high: 5 }\n  w: { type: float, low: 0, high: 1 }'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segtune search --warm-start', () => {
  it('maps the source trials, says what it kept in one line, stores the source and uses it again on --resume', () => {
    expect(cli(['search', 'src.yaml', '--trials', '30', '--storage', 'a.db', '--seed', '1', '--no-export', '--quiet', '--workers', '1']).code).toBe(0);
    // The source in another storage, named with @.
    const r = cli(['search', 'dst.yaml', '--trials', '6', '--storage', 'b.db', '--seed', '2', '--no-export', '--workers', '1', '--warm-start', 'src@a.db']);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stderr.split('\n').find((l) => l.startsWith('warm start:'))!;
    const m = /^warm start: kept (\d+) of 30 trials from "src"; dropped (\d+) outside the new space(, \d+ not complete)?; new params at their default: z=2$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(5);
    expect(Number(m![2])).toBeGreaterThan(5);
    // A file path is stored absolute, so a resume or a worker started elsewhere finds it.
    expect(attrsOf('b.db', 'dst').warm_start).toEqual([{ study: 'src', storage: join(dir, 'a.db') }]);
    const again = cli(['search', 'dst.yaml', '--trials', '8', '--storage', 'b.db', '--resume', '--no-export', '--workers', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(line);
  });

  it('a worker joins a study warm-started from another storage, from another folder, and without it when that file is gone', () => {
    mkdirSync(join(dir, 'elsewhere'), { recursive: true });
    const w = (trials: number) => runCli(['worker', '--storage', join(dir, 'b.db'), '--study', 'dst', '--trials', String(trials), '--workers', '1'], { cwd: join(dir, 'elsewhere'), env });
    const joined = w(10);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toMatch(/ran 2 trials; stopped by trials/);
    renameSync(join(dir, 'a.db'), join(dir, 'a-moved.db'));
    try {
      const alone = w(11);
      expect(alone.code, alone.stderr).toBe(0);
      expect(alone.stderr).toContain(`note: warm start: src@${join(dir, 'a.db')}: ${join(dir, 'a.db')} does not exist; this worker goes on without that prior`);
      expect(alone.stdout).toMatch(/ran 1 trial; stopped by trials/);
      expect(existsSync(join(dir, 'a.db'))).toBe(false);
    } finally {
      renameSync(join(dir, 'a-moved.db'), join(dir, 'a.db'));
    }
  });

  it('a source storage that does not exist is one line, exit 2, and is not created; a sampler that ignores the prior is named', () => {
    const r = cli(['search', 'dst.yaml', '--trials', '2', '--storage', 'c.db', '--study', 'dst2', '--no-export', '--warm-start', 'src@missing.db']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`segtune: --warm-start: ${join(dir, 'missing.db')} does not exist`);
    expect(existsSync(join(dir, 'missing.db'))).toBe(false);
    const random = cli(['search', 'src.yaml', '--trials', '2', '--storage', 'c.db', '--study', 'src2', '--no-export', '--workers', '1', '--warm-start', 'src@a.db']);
    expect(random.code, random.stderr).toBe(0);
    expect(random.stderr).toMatch(/^warning: warm start: the random sampler does not use earlier trials, so the \d+ kept change nothing; tpe, gp and cmaes use them$/m);
  });

  it('drops every trial when a new param has no default, and says so', () => {
    const r = cli(['search', 'nodef.yaml', '--trials', '2', '--storage', 'a.db', '--seed', '3', '--no-export', '--workers', '1', '--warm-start', 'src']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warm start: kept 0 of 30 trials from "src"; dropped \d+ new param "w" has no default/);
  });

  it('refuses an unknown source study in one line, exit 2, before creating the study', () => {
    const r = cli(['search', 'dst.yaml', '--study', 'dst2', '--trials', '2', '--storage', 'b.db', '--no-export', '--warm-start', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--warm-start: no study named "nope"/);
    expect(cli(['status', '--storage', 'b.db']).stdout).not.toContain('dst2');
  });
});

describe('segtune search --stop-when', () => {
  it('stops on patience, stores why, and status shows it', () => {
    writeFileSync(join(dir, 'flat.yaml'), SPACE('flat', '  x: { type: float, low: -5, high: 5 }\n  y: { type: float, low: -5, high: 5 }', 'random'));
    const r = cli(['search', 'flat.yaml', '--trials', '200', '--storage', 'c.db', '--seed', '4', '--no-export', '--workers', '1', '--stop-when', 'patience:5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/stopped by patience:5: no improvement of the best value in the last 5 complete trials/);
    const stopped = attrsOf('c.db', 'flat').stopped_by;
    expect(stopped).toMatchObject({ reason: 'stop-rule', rule: 'patience:5' });
    const s = cli(['status', '--storage', 'c.db', '--study', 'flat']);
    expect(s.stdout).toMatch(new RegExp(`stopped by patience:5 after trial #${stopped.trial}: no improvement`));
    expect(stopped.trial).toBeLessThan(199);
  });

  it('refuses a malformed rule in one line, exit 2', () => {
    const r = cli(['search', 'flat.yaml', '--storage', 'c.db', '--study', 'x2', '--stop-when', 'patience:soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^segtune: --stop-when: "patience:soon" is not a rule; expected patience:N/);
  });
});
