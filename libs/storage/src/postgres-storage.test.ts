import pg from 'pg';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TrialStateError, UserError, type StudySpec } from '@segtune/core';
import { storageConformance } from './conformance';
import { openStorage } from './open-storage';
import { PostgresStorage, POSTGRES_SCHEMA_VERSION } from './postgres-storage';
import { createTestDatabase, pgSkipPolicy, pgUnavailableReason, type TestDatabase } from './pg-test-database';
import { startWrongPasswordServer } from './pg-fake-auth-server';

const policy = pgSkipPolicy(await pgUnavailableReason());
if (policy.failInCi) {
  it('PostgreSQL is reachable (CI is set, so its absence fails the run)', () => {
    throw new Error(policy.label);
  });
}

const spec = (name: string): StudySpec => ({ name, objectives: [{ name: 'value', direction: 'minimize' }], seed: 1 });

async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, values);
  } finally {
    await c.end();
  }
}

describe.skipIf(policy.skip)(`postgresql storage${policy.label}`, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  storageConformance('postgresql', async () => {
    const s = await PostgresStorage.open(db.url);
    await sql(db.url, 'TRUNCATE segtune_studies, segtune_trials, segtune_outbox, segtune_refused RESTART IDENTITY CASCADE');
    return s;
  });

  describe('postgresql specifics', () => {
    it('opens through openStorage with postgresql:// and postgres:// URLs, passwords masked', async () => {
      const a = await openStorage(db.url);
      expect(a.kind).toBe('postgresql');
      await a.close();
      const withPassword = db.url.replace('postgresql://postgres@', 'postgres://postgres:s3cret@');
      const b = await openStorage(withPassword);
      expect(b.description).not.toContain('s3cret');
      expect(b.description).toContain('postgresql://postgres:***@');
      await b.close();
    });

    it('keeps numbers dense, claims exactly once and holds a limit across separate connection pools', async () => {
      const s1 = await PostgresStorage.open(db.url);
      const s2 = await PostgresStorage.open(db.url);
      try {
        const st = await s1.createStudy(spec('pools'));
        for (let i = 0; i < 10; i++) await s1.createTrial(st.id, { state: 'waiting', params: { i } });
        const claims = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? s1 : s2).claimWaitingTrial(st.id, { worker: `w${i % 2}` }, { maxTrials: 25 })));
        expect(claims.filter(Boolean).map((t) => t!.params.i).sort((a, b) => Number(a) - Number(b))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        const made = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? s1 : s2).createTrial(st.id, { state: 'running', params: { j: i } }, { maxTrials: 25 })));
        expect(made.filter(Boolean)).toHaveLength(15);
        const all = await s1.getTrials(st.id);
        expect(all.map((t) => t.number)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      } finally {
        await s1.close();
        await s2.close();
      }
    });

    it('refuses a late tell after the trial was failed as stale, and records it', async () => {
      const s = await PostgresStorage.open(db.url);
      try {
        const st = await s.createStudy(spec('late'));
        const t = (await s.createTrial(st.id, { state: 'running', params: { x: 1 } }))!;
        await new Promise((r) => setTimeout(r, 30));
        const stale = await s.failStaleTrials(st.id, 10, 'stale', 'no heartbeat for 10 ms');
        expect(stale.map((x) => x.id)).toEqual([t.id]);
        // A second sweeper finds nothing: each stale trial is failed once.
        expect(await s.failStaleTrials(st.id, 10, 'stale', 'again')).toEqual([]);
        await expect(s.finishTrial(t.id, { state: 'complete', values: [0.5], metrics: { value: 0.5 } })).rejects.toBeInstanceOf(TrialStateError);
        await expect(s.reportIntermediate(t.id, 2, { value: 1 })).rejects.toBeInstanceOf(TrialStateError);
        const back = await s.getTrial(t.id);
        expect(back).toMatchObject({ state: 'failed', attrs: { reason: 'stale' } });
        expect(back.values).toBeUndefined();
        expect(back.intermediate).toEqual({});
        const refused = await s.refusedTransitions(st.id);
        expect(refused.map((r) => [r.number, r.action, r.from, r.to])).toEqual([
          [0, 'finish', 'failed', 'complete'],
          [0, 'report', 'failed', 'running'],
        ]);
        expect(refused[0].detail).toMatchObject({ values: [0.5] });
      } finally {
        await s.close();
      }
    });

    it('incremental sync never skips a change committed after a later one (sequence gaps)', async () => {
      const s = await PostgresStorage.open(db.url);
      const slow = new pg.Client({ connectionString: db.url });
      await slow.connect();
      try {
        const st = await s.createStudy(spec('gaps'));
        const a = (await s.createTrial(st.id, { state: 'running', params: { x: 1 } }))!;
        const b = (await s.createTrial(st.id, { state: 'running', params: { x: 2 } }))!;
        let cursor = Math.max(...(await s.getTrials(st.id)).map((t) => t.seq));
        // A slow writer takes a sequence number first and commits last.
        await slow.query('BEGIN');
        await slow.query(`UPDATE segtune_trials SET params = '{"x": 11}', seq = nextval('segtune_seq'), xid = pg_current_xact_id() WHERE id = $1`, [a.id]);
        await s.setTrialParams(b.id, { x: 22 });
        const first = await s.getTrials(st.id, { sinceSeq: cursor });
        expect(first.map((t) => t.params.x)).toEqual([22]);
        cursor = Math.max(cursor, ...first.map((t) => t.seq));
        await slow.query('COMMIT');
        const second = await s.getTrials(st.id, { sinceSeq: cursor });
        expect(second.map((t) => t.params.x)).toEqual([11]);
        expect(second[0].seq).toBeLessThan(cursor);
        cursor = Math.max(cursor, ...second.map((t) => t.seq));
        // Until a newer change moves the cursor, the late row may be handed out again; nothing else is.
        expect((await s.getTrials(st.id, { sinceSeq: cursor })).every((t) => t.id === a.id)).toBe(true);
        await s.reportIntermediate(b.id, 1, { value: 3 });
        const third = await s.getTrials(st.id, { sinceSeq: cursor });
        expect(third.map((t) => t.id)).toContain(b.id);
        cursor = Math.max(cursor, ...third.map((t) => t.seq));
        expect(await s.getTrials(st.id, { sinceSeq: cursor })).toEqual([]);
      } finally {
        await slow.end();
        await s.close();
      }
    });

    it('two storages starting at once on an empty database both migrate safely', async () => {
      const fresh = await createTestDatabase();
      try {
        const both = await Promise.all([PostgresStorage.open(fresh.url), PostgresStorage.open(fresh.url), PostgresStorage.open(fresh.url)]);
        const { rows } = await sql(fresh.url, 'SELECT version FROM segtune_schema ORDER BY version');
        expect(rows.map((r) => r.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
        await both[0].createStudy(spec('s'));
        expect((await both[1].getStudy('s'))?.name).toBe('s');
        for (const s of both) await s.close();
      } finally {
        await fresh.drop();
      }
    });

    it('refuses a database from a newer schema with one line and writes nothing', async () => {
      const fresh = await createTestDatabase();
      try {
        await sql(fresh.url, 'CREATE TABLE segtune_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
        await sql(fresh.url, 'INSERT INTO segtune_schema (version) VALUES ($1)', [POSTGRES_SCHEMA_VERSION + 3]);
        const err = await PostgresStorage.open(fresh.url).catch((e: Error) => e);
        expect(err).toBeInstanceOf(UserError);
        expect((err as Error).message).toMatch(new RegExp(`newer segtune \\(schema ${POSTGRES_SCHEMA_VERSION + 3}, this one knows up to ${POSTGRES_SCHEMA_VERSION}\\)`));
        expect((err as Error).message).not.toContain('\n');
        const { rows } = await sql(fresh.url, `SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'segtune_%'`);
        expect(rows[0].n).toBe(1);
      } finally {
        await fresh.drop();
      }
    });

    it('an unreachable server, a missing database and a wrong password are one-line UserErrors without the password', async () => {
      const refused = await openStorage('postgresql://postgres:hunter2@127.0.0.1:1/db').catch((e: Error) => e);
      expect(refused).toBeInstanceOf(UserError);
      expect((refused as Error).message).toBe('--storage: cannot connect to postgresql://postgres:***@127.0.0.1:1/db: connection refused (is PostgreSQL running and listening there?)');
      const missing = await openStorage(db.url.replace(db.name, `${db.name}_nope`)).catch((e: Error) => e);
      expect(missing).toBeInstanceOf(UserError);
      expect((missing as Error).message).toMatch(/database ".*_nope" does not exist/);
      const fake = await startWrongPasswordServer();
      try {
        const wrong = await openStorage(`postgresql://bob:hunter2@127.0.0.1:${fake.port}/db`).catch((e: Error) => e);
        expect(fake.passwordsSeen).toEqual(['hunter2']);
        expect(wrong).toBeInstanceOf(UserError);
        expect((wrong as Error).message).toBe(`--storage: cannot connect to postgresql://bob:***@127.0.0.1:${fake.port}/db: password authentication failed for user "bob" (wrong password)`);
      } finally {
        await fake.close();
      }
    });
  });
});
