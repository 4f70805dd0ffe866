// Test support (not part of the package's surface): fresh PostgreSQL databases for one test run,
// against the server the conventions name (127.0.0.1:5432, user postgres, trust auth).
import pg from 'pg';

/** The maintenance database tests connect to for CREATE/DROP DATABASE. */
export const PG_ADMIN_URL = process.env.SEGTUNE_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function pgUnavailableReason(adminUrl = PG_ADMIN_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    return `PostgreSQL not reachable at ${adminUrl.replace(/:[^:@/]*@/, ':***@')}: ${(e as Error).message || (e as { code?: string }).code}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

let counter = 0;

/** Creates `segtune_test_<pid>_<time>_<n>`; `drop()` removes it, closing leftover sessions. */
export async function createTestDatabase(adminUrl = PG_ADMIN_URL): Promise<TestDatabase> {
  const name = `segtune_test_${process.pid}_${Date.now()}_${counter++}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Identifiers cannot be parameters; the name is built above from digits and underscores.
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Reports PostgreSQL's absence: a skip (with the reason) locally, a failure when CI is set. */
export function pgSkipPolicy(reason: string | undefined): { skip: boolean; label: string; failInCi: boolean } {
  return { skip: reason !== undefined, label: reason ? ` (skipped: ${reason})` : '', failInCi: reason !== undefined && !!process.env.CI };
}
