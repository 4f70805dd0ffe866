import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, it, expect } from 'vitest';
import { SqliteStorage, SQLITE_SCHEMA_VERSION } from './sqlite-storage';
import { openStorage, maskUrl, absoluteStorageUrl } from './open-storage';
import { storageConformance } from './conformance';

const dirs: string[] = [];
storageConformance(
  'sqlite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segtune-sqlite-'));
    dirs.push(dir);
    return new SqliteStorage(join(dir, 'study.db'));
  },
  async () => {
    while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
  },
);

describe('sqlite specifics', () => {
  it('keeps what was written across reopening, and two handles see each other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segtune-sqlite-'));
    const file = join(dir, 's.db');
    const a = new SqliteStorage(file);
    const b = new SqliteStorage(file);
    const st = await a.createStudy({ name: 's', objectives: [{ name: 'v', direction: 'maximize' }], seed: 1 });
    const t = (await a.createTrial(st.id, { state: 'running', params: { x: 1 } }))!;
    await a.finishTrial(t.id, { state: 'complete', values: [3], metrics: { v: 3 } });
    expect((await b.getTrials(st.id))[0]).toMatchObject({ state: 'complete', values: [3] });
    await a.close();
    await b.close();
    const c = new SqliteStorage(file);
    expect((await c.getStudy('s'))!.objectives[0].direction).toBe('maximize');
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a database written by a newer schema, with one clear line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segtune-sqlite-'));
    const file = join(dir, 'new.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 5}`);
    db.close();
    expect(() => new SqliteStorage(file)).toThrow(/newer segtune \(schema \d+/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens plain paths and SQLAlchemy-style URLs, and rejects missing folders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segtune-url-'));
    const rel = await openStorage('sqlite:///rel.db', { cwd: dir });
    expect(rel.description).toBe(`sqlite:${join(dir, 'rel.db')}`);
    await rel.close();
    const abs = await openStorage(`sqlite:///${join(dir, 'abs.db')}`);
    expect(abs.description).toBe(`sqlite:${join(dir, 'abs.db')}`);
    await abs.close();
    const plain = await openStorage('plain.db', { cwd: dir });
    expect(plain.kind).toBe('sqlite');
    await plain.close();
    await expect(openStorage('no/such/folder/x.db', { cwd: dir })).rejects.toThrow(/folder .* does not exist/);
    await expect(openStorage('redis://localhost/0')).rejects.toThrow(/unsupported scheme "redis:\/\/"/);
    writeFileSync(join(dir, 'junk.db'), 'this is not a database at all, just text'.repeat(100));
    await expect(openStorage(join(dir, 'junk.db'))).rejects.toThrow(/cannot use storage .*junk.db: file is not a database/);
    expect(maskUrl('postgresql://bob:secret@db.example/x')).toBe('postgresql://bob:***@db.example/x');
    // A read-only open names the flag that gave the storage.
    await expect(openStorage(join(dir, 'none.db'), { readonly: true, flag: '--warm-start' })).rejects.toThrow(new RegExp(`^--warm-start: ${join(dir, 'none.db')} does not exist$`));
    rmSync(dir, { recursive: true, force: true });
  });

  it('absoluteStorageUrl: SQLite files absolute against the folder given, other URLs as they are', () => {
    expect(absoluteStorageUrl('a.db', '/w')).toBe('/w/a.db');
    expect(absoluteStorageUrl('sqlite:///sub/a.db', '/w')).toBe('/w/sub/a.db');
    expect(absoluteStorageUrl('sqlite:////abs/a.db', '/w')).toBe('/abs/a.db');
    expect(absoluteStorageUrl('file:///abs/a.db', '/w')).toBe('/abs/a.db');
    expect(absoluteStorageUrl('postgresql://u@h/db', '/w')).toBe('postgresql://u@h/db');
    expect(absoluteStorageUrl('memory:', '/w')).toBe('memory:');
    expect(() => absoluteStorageUrl('sqlite://x.db', '/w', '--warm-start')).toThrow(/^--warm-start: sqlite:\/\/x\.db has two slashes/);
  });
});
