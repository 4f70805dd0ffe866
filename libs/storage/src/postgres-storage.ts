import pg from 'pg';
import {
  StudyExistsError,
  TrialNotFoundError,
  TrialStateError,
  UserError,
  canTransition,
  type FailReason,
  type FinishTrial,
  type MetricValues,
  type NewTrial,
  type OutboxEvent,
  type Storage,
  type StudyRecord,
  type StudySpec,
  type Trial,
  type TrialAttrs,
  type TrialLimit,
  type TrialQuery,
  type TrialState,
} from '@segtune/core';
import { maskUrl, registerStorageScheme } from './open-storage';
import { rowToStudy, rowToTrial, specToJson, type StudyRow, type TrialRow } from './rows';

/**
 * Schema migrations, applied in order under an advisory lock; `segtune_schema` records which ran.
 * Tables carry a `segtune_` prefix so that a database shared with other tools (Optuna's
 * `studies`/`trials`, say) never collides.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE segtune_studies (
     id bigserial PRIMARY KEY,
     name text NOT NULL UNIQUE,
     spec jsonb NOT NULL,
     attrs jsonb NOT NULL DEFAULT '{}',
     created_at bigint NOT NULL,
     -- the next dense trial number, and how many trials count against a trial limit (all that
     -- are not waiting): updated in the same statement that creates or claims a trial.
     next_number integer NOT NULL DEFAULT 0,
     active integer NOT NULL DEFAULT 0
   );
   CREATE SEQUENCE segtune_seq;
   CREATE TABLE segtune_trials (
     id bigserial PRIMARY KEY,
     study_id bigint NOT NULL REFERENCES segtune_studies(id) ON DELETE CASCADE,
     number integer NOT NULL,
     state text NOT NULL CHECK (state IN ('waiting', 'running', 'complete', 'pruned', 'failed')),
     params jsonb NOT NULL,
     vals jsonb,
     metrics jsonb,
     intermediate jsonb NOT NULL DEFAULT '{}',
     attrs jsonb NOT NULL DEFAULT '{}',
     created_at bigint NOT NULL,
     started_at bigint,
     finished_at bigint,
     heartbeat_at bigint,
     seq bigint NOT NULL,
     -- the transaction that last changed the row, for gap-free incremental sync (getTrials)
     xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
     UNIQUE (study_id, number)
   );
   CREATE INDEX segtune_trials_study_seq ON segtune_trials (study_id, seq);
   CREATE INDEX segtune_trials_study_xid ON segtune_trials (study_id, xid);
   CREATE INDEX segtune_trials_waiting ON segtune_trials (study_id, number) WHERE state = 'waiting';
   CREATE INDEX segtune_trials_running ON segtune_trials (study_id) WHERE state = 'running';
   CREATE TABLE segtune_outbox (
     id bigserial PRIMARY KEY,
     study_id bigint NOT NULL,
     sink text NOT NULL,
     kind text NOT NULL,
     payload jsonb,
     created_at bigint NOT NULL,
     attempts integer NOT NULL DEFAULT 0
   );
   CREATE INDEX segtune_outbox_sink ON segtune_outbox (sink, id);
   -- transitions the database refused (a late tell from a worker whose trial was failed as
   -- stale, a report after the end): recorded here, never applied.
   CREATE TABLE segtune_refused (
     id bigserial PRIMARY KEY,
     study_id bigint NOT NULL,
     trial_id bigint NOT NULL,
     number integer NOT NULL,
     action text NOT NULL,
     from_state text NOT NULL,
     to_state text NOT NULL,
     detail jsonb,
     created_at bigint NOT NULL
   );
   CREATE INDEX segtune_refused_study ON segtune_refused (study_id, id);`,
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** Key of the transaction-scoped advisory lock that serialises migrations ("segtune" in ASCII). */
const MIGRATION_LOCK = 0x736567_74756e65n;

/** Server time in ms: every worker compares heartbeats against the same clock. */
const NOW = `(extract(epoch from now()) * 1000)::bigint`;
const COLS = 'id, study_id, number, state, params, vals, metrics, intermediate, attrs, created_at, started_at, finished_at, heartbeat_at, seq';
const TCOLS = COLS.split(', ')
  .map((c) => `t.${c}`)
  .join(', ');
const STATES: readonly TrialState[] = ['waiting', 'running', 'complete', 'pruned', 'failed'];
const BUMP = `seq = nextval('segtune_seq'), xid = pg_current_xact_id()`;
/** How long a claim that found no waiting trial is trusted (see `noWaitingSince`). */
const CLAIM_HINT_MS = 250;
/**
 * Put in a WHERE clause: this statement commits without waiting for the WAL flush. Used for the
 * hot-path writes that a later synchronous commit covers (creating, claiming, params, reports,
 * attrs, heartbeats): PostgreSQL writes WAL in order, so once a trial's finish is durable (that
 * commit waits) everything the trial did before it is durable too. A server crash can lose only
 * the last moments of unfinished trials, which the stale-trial sweep then recovers. The gain is
 * large: the study row that numbers trials is otherwise locked through a disk flush per trial.
 */
const ASYNC_COMMIT = `set_config('synchronous_commit', 'off', true) = 'off'`;

/** Query text → prepared-statement name (shared by all instances; names are per connection). */
const statementNames = new Map<string, string>();

/** A transition the database refused, as recorded in `segtune_refused`. */
export interface RefusedTransition {
  trialId: number;
  number: number;
  action: 'finish' | 'report' | 'params';
  from: TrialState;
  to: TrialState;
  detail: unknown;
  createdAt: number;
}

export interface PostgresOptions {
  /** Connections per process (default 4: a worker issues few queries at once). */
  poolSize?: number;
  /** Milliseconds to wait for a connection (default 10 s). */
  connectTimeoutMs?: number;
}

/** `postgres://`, `postgresql+psycopg2://` (SQLAlchemy) → `postgresql://`. */
function normaliseUrl(url: string): string {
  return url.replace(/^postgres(?:ql)?(?:\+[a-z0-9_]+)?:\/\//i, 'postgresql://');
}

function passwordOf(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

/** One line on why a connection failed, never containing the password. */
function connectionProblem(e: unknown, password: string | undefined): string {
  const err = e as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = err.code ?? err.errors?.[0]?.code;
  let why: string;
  switch (code) {
    case 'ECONNREFUSED':
      why = 'connection refused (is PostgreSQL running and listening there?)';
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      why = 'host not found';
      break;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      why = 'host unreachable';
      break;
    case '28P01':
      why = `${err.message} (wrong password)`;
      break;
    case '3D000':
      why = `${err.message} (create it first: createdb, or CREATE DATABASE)`;
      break;
    default:
      why = /timeout/i.test(err.message ?? '') ? 'connection timed out' : (err.message ?? String(e));
  }
  why = why.split('\n')[0];
  if (password) why = why.split(password).join('***');
  return why;
}

/**
 * Shared storage for many processes and machines. Every method is one statement (or one
 * transaction) so that trial numbers stay dense, claims happen once, limits hold and impossible
 * transitions are refused by the database itself, whatever the number of workers.
 */
export class PostgresStorage implements Storage {
  readonly kind = 'postgresql' as const;
  readonly description: string;
  private readonly pool: pg.Pool;
  /**
   * For incremental sync: the snapshot in which a cursor (a `sinceSeq` value this instance
   * handed out) was read. A sequence number is taken when a transaction writes, not when it
   * commits, so a slow transaction can commit a seq below one a reader already saw; rows written
   * by transactions that the earlier snapshot could not see are returned as well, so no change
   * is ever skipped.
   */
  private readonly horizons = new Map<string, string>();
  private closed = false;
  /**
   * When each study was last seen without waiting trials (by a claim that found none, or a trial
   * creation that reported none). For CLAIM_HINT_MS after that a claim returns nothing without a
   * round trip: in a fast ask-and-tell loop most asks find no enqueued trial, and a query costs
   * more than the rest of the cycle. A trial enqueued by another process is thus claimed at most
   * CLAIM_HINT_MS late; one enqueued through this instance, or a refusal by the trial limit,
   * clears the hint at once.
   */
  private readonly noWaitingSince = new Map<number, number>();

  private constructor(url: string, pool: pg.Pool) {
    this.description = maskUrl(url);
    this.pool = pool;
  }

  /** Connects, checks the schema version and migrates (under an advisory lock). */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStorage> {
    const conn = normaliseUrl(url);
    const masked = maskUrl(conn);
    const pool = new pg.Pool({
      connectionString: conn,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
    });
    // An idle connection dropped by the server must not crash the process; the next query
    // reconnects or fails with its own error.
    pool.on('error', () => undefined);
    const storage = new PostgresStorage(conn, pool);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new UserError(`--storage: cannot connect to ${masked}: ${connectionProblem(e, passwordOf(conn))}`);
    }
    try {
      await migrate(client, masked);
    } catch (e) {
      client.release(true);
      await pool.end().catch(() => undefined);
      if (e instanceof UserError) throw e;
      throw new UserError(`--storage: cannot use ${masked}: ${connectionProblem(e, passwordOf(conn))}`);
    }
    client.release();
    return storage;
  }

  /**
   * Every query runs as a named prepared statement: the texts are a fixed set, so each connection
   * parses and plans each one once instead of on every call (most of a cycle's server CPU).
   */
  private async q<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    let name = statementNames.get(text);
    if (!name) statementNames.set(text, (name = `segtune_${statementNames.size}`));
    return this.pool.query<R>({ name, text, values });
  }

  async createStudy(spec: StudySpec): Promise<StudyRecord> {
    try {
      const { rows } = await this.q<{ id: string; created_at: string }>(
        `INSERT INTO segtune_studies (name, spec, attrs, created_at) VALUES ($1, $2::jsonb, $3::jsonb, ${NOW}) RETURNING id, created_at`,
        [spec.name, specToJson(spec), JSON.stringify(spec.attrs ?? {})],
      );
      return { ...spec, id: Number(rows[0].id), createdAt: Number(rows[0].created_at), attrs: spec.attrs ?? {} };
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new StudyExistsError(spec.name);
      throw e;
    }
  }

  async getStudy(name: string): Promise<StudyRecord | undefined> {
    const { rows } = await this.q<StudyRow>('SELECT id, name, spec, attrs, created_at FROM segtune_studies WHERE name = $1', [name]);
    return rows[0] ? rowToStudy(rows[0]) : undefined;
  }

  async listStudies(): Promise<StudyRecord[]> {
    const { rows } = await this.q<StudyRow>('SELECT id, name, spec, attrs, created_at FROM segtune_studies ORDER BY id');
    return rows.map(rowToStudy);
  }

  async setStudyAttrs(studyId: number, attrs: Record<string, unknown>): Promise<void> {
    const { rowCount } = await this.q('UPDATE segtune_studies SET attrs = attrs || $2::jsonb WHERE id = $1', [studyId, JSON.stringify(attrs)]);
    if (!rowCount) throw new Error(`study ${studyId} not found`);
  }

  async createTrial(studyId: number, init: NewTrial, limit?: TrialLimit): Promise<Trial | undefined> {
    const running = init.state === 'running' ? 1 : 0;
    // The study row is the per-study counter: locking it for this one statement makes numbers
    // dense and the limit exact under any number of concurrent workers.
    const { rows } = await this.q<TrialRow & { has_waiting: boolean }>(
      `WITH s AS (
         UPDATE segtune_studies SET next_number = next_number + 1, active = active + $5::int
         WHERE id = $1 AND ($6::int IS NULL OR $5::int = 0 OR active < $6::int) AND ${ASYNC_COMMIT}
         RETURNING next_number - 1 AS number
       )
       INSERT INTO segtune_trials (study_id, number, state, params, attrs, created_at, started_at, heartbeat_at, seq)
       SELECT $1, s.number, $2, $3::jsonb, $4::jsonb, ${NOW},
              CASE WHEN $5::int = 1 THEN ${NOW} END, CASE WHEN $5::int = 1 THEN ${NOW} END, nextval('segtune_seq')
       FROM s
       RETURNING ${COLS}, EXISTS (SELECT 1 FROM segtune_trials w WHERE w.study_id = $1 AND w.state = 'waiting') AS has_waiting`,
      [studyId, init.state, JSON.stringify(init.params), JSON.stringify(init.attrs ?? {}), running, limit?.maxTrials ?? null],
    );
    if (rows[0] && running && !rows[0].has_waiting) this.noWaitingSince.set(studyId, Date.now());
    else this.noWaitingSince.delete(studyId);
    if (rows[0]) return rowToTrial(rows[0]);
    if (limit?.maxTrials === undefined || !running) throw new Error(`study ${studyId} not found`);
    return undefined;
  }

  async claimWaitingTrial(studyId: number, attrs: TrialAttrs = {}, limit?: TrialLimit): Promise<Trial | undefined> {
    const seen = this.noWaitingSince.get(studyId);
    if (seen !== undefined && Date.now() - seen < CLAIM_HINT_MS) return undefined;
    const asked = Date.now();
    // SKIP LOCKED: concurrent claimers pass over a row another one is taking, so each waiting
    // trial goes to exactly one of them and nobody waits.
    const { rows } = await this.q<TrialRow>(
      `WITH c AS (
         SELECT id FROM segtune_trials WHERE study_id = $1 AND state = 'waiting'
         ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED
       ), s AS (
         UPDATE segtune_studies SET active = active + 1
         WHERE id = $1 AND EXISTS (SELECT 1 FROM c) AND ($3::int IS NULL OR active < $3::int) AND ${ASYNC_COMMIT}
         RETURNING id
       )
       UPDATE segtune_trials t SET state = 'running', attrs = t.attrs || $2::jsonb, started_at = ${NOW}, heartbeat_at = ${NOW}, ${BUMP}
       FROM c, s WHERE t.id = c.id
       RETURNING ${TCOLS}`,
      [studyId, JSON.stringify(attrs), limit?.maxTrials ?? null],
    );
    if (rows[0]) return rowToTrial(rows[0]);
    // Nothing claimable: none waiting, or each one being taken by another claimer, or the limit
    // reached (then the creation that follows is refused too, which clears the hint).
    this.noWaitingSince.set(studyId, asked);
    return undefined;
  }

  /** Records a refused change and throws the matching error. */
  private async refuse(trialId: number, action: RefusedTransition['action'], to: TrialState, detail: unknown): Promise<never> {
    const { rows } = await this.q<{ number: number; from_state: TrialState }>(
      `INSERT INTO segtune_refused (study_id, trial_id, number, action, from_state, to_state, detail, created_at)
       SELECT study_id, id, number, $2, state, $3, $4::jsonb, ${NOW} FROM segtune_trials WHERE id = $1
       RETURNING number, from_state`,
      [trialId, action, to, JSON.stringify(detail ?? null)],
    );
    if (!rows[0]) throw new TrialNotFoundError(`id ${trialId}`);
    throw new TrialStateError(rows[0].number, rows[0].from_state, to);
  }

  async setTrialParams(trialId: number, params: Trial['params'], attrs?: TrialAttrs): Promise<void> {
    const { rowCount } = await this.q(`UPDATE segtune_trials SET params = $2::jsonb, attrs = attrs || $3::jsonb, ${BUMP} WHERE id = $1 AND state = 'running' AND ${ASYNC_COMMIT}`, [
      trialId,
      JSON.stringify(params),
      JSON.stringify(attrs ?? {}),
    ]);
    if (!rowCount) await this.refuse(trialId, 'params', 'running', attrs ? { params, attrs } : { params });
  }

  async reportIntermediate(trialId: number, step: number, values: MetricValues): Promise<void> {
    const { rowCount } = await this.q(
      `UPDATE segtune_trials SET intermediate = jsonb_set(intermediate, ARRAY[$2::text], $3::jsonb), heartbeat_at = ${NOW}, ${BUMP}
       WHERE id = $1 AND state = 'running' AND ${ASYNC_COMMIT}`,
      [trialId, String(step), JSON.stringify(values)],
    );
    if (!rowCount) await this.refuse(trialId, 'report', 'running', { step, values });
  }

  async finishTrial(trialId: number, finish: FinishTrial): Promise<Trial> {
    // The states this transition may start from, from the one rule in core; the database checks
    // them while holding the row, so a late tell cannot overwrite a stale-failed trial.
    const from = STATES.filter((s) => canTransition(s, finish.state));
    const { rows } = await this.q<TrialRow & { prev: string }>(
      `WITH old AS (
         SELECT id, study_id, state AS prev FROM segtune_trials WHERE id = $1 FOR UPDATE
       ), upd AS (
         UPDATE segtune_trials t SET state = $2, vals = $3::jsonb, metrics = $4::jsonb, attrs = t.attrs || $5::jsonb, finished_at = ${NOW}, ${BUMP}
         FROM old WHERE t.id = old.id AND old.prev = ANY($6::text[])
         RETURNING ${TCOLS}, old.prev
       ), bump AS (
         UPDATE segtune_studies SET active = active + 1 WHERE id = (SELECT study_id FROM upd WHERE prev = 'waiting')
       )
       SELECT * FROM upd`,
      [
        trialId,
        finish.state,
        finish.values ? JSON.stringify(finish.values) : null,
        finish.metrics ? JSON.stringify(finish.metrics) : null,
        JSON.stringify(finish.attrs ?? {}),
        from,
      ],
    );
    if (!rows[0]) return this.refuse(trialId, 'finish', finish.state, finish);
    return rowToTrial(rows[0]);
  }

  async updateTrialAttrs(trialId: number, attrs: TrialAttrs): Promise<void> {
    const { rowCount } = await this.q(`UPDATE segtune_trials SET attrs = attrs || $2::jsonb, ${BUMP} WHERE id = $1 AND ${ASYNC_COMMIT}`, [trialId, JSON.stringify(attrs)]);
    if (!rowCount) throw new TrialNotFoundError(`id ${trialId}`);
  }

  async heartbeat(trialIds: readonly number[]): Promise<void> {
    if (!trialIds.length) return;
    await this.q(`UPDATE segtune_trials SET heartbeat_at = ${NOW} WHERE id = ANY($1::bigint[]) AND state = 'running' AND ${ASYNC_COMMIT}`, [trialIds]);
  }

  async failStaleTrials(studyId: number, graceMs: number, reason: FailReason, message: string): Promise<Trial[]> {
    // SKIP LOCKED: when several workers sweep at once, each stale trial is failed by exactly one
    // of them (the one that gets it back, and may requeue it); a trial being finished right now
    // is left to its owner.
    const { rows } = await this.q<TrialRow>(
      `WITH s AS (
         SELECT id FROM segtune_trials
         WHERE study_id = $1 AND state = 'running' AND COALESCE(heartbeat_at, started_at, created_at) < ${NOW} - $2::bigint
         FOR UPDATE SKIP LOCKED
       )
       UPDATE segtune_trials t SET state = 'failed', attrs = t.attrs || $3::jsonb, finished_at = ${NOW}, ${BUMP}
       FROM s WHERE t.id = s.id AND t.state = 'running'
       RETURNING ${TCOLS}`,
      [studyId, Math.max(0, Math.round(graceMs)), JSON.stringify({ reason, error: message })],
    );
    return rows.map(rowToTrial).sort((a, b) => a.number - b.number);
  }

  async getTrial(trialId: number): Promise<Trial> {
    const { rows } = await this.q<TrialRow>(`SELECT ${COLS} FROM segtune_trials WHERE id = $1`, [trialId]);
    if (!rows[0]) throw new TrialNotFoundError(`id ${trialId}`);
    return rowToTrial(rows[0]);
  }

  async getTrials(studyId: number, query: TrialQuery = {}): Promise<Trial[]> {
    const since = query.sinceSeq ?? 0;
    const params: unknown[] = [studyId, since];
    let cond = 't.seq > $2';
    const horizon = since > 0 ? this.horizons.get(`${studyId}:${since}`) : undefined;
    if (horizon) {
      params.push(horizon);
      cond = `(t.seq > $2 OR (t.xid >= pg_snapshot_xmin($3::pg_snapshot) AND NOT pg_visible_in_snapshot(t.xid, $3::pg_snapshot)))`;
    }
    if (query.states) {
      params.push(query.states);
      cond += ` AND t.state = ANY($${params.length}::text[])`;
    }
    const { rows } = await this.q<TrialRow & { snap: string }>(
      `SELECT s.snap, ${TCOLS}
       FROM (SELECT pg_current_snapshot()::text AS snap) s
       LEFT JOIN segtune_trials t ON t.study_id = $1 AND ${cond}
       ORDER BY t.number`,
      params,
    );
    const trials = rows.filter((r) => r.id !== null).map(rowToTrial);
    if (!query.states && rows[0]) {
      const cursor = trials.reduce((m, t) => Math.max(m, t.seq), since);
      const key = `${studyId}:${cursor}`;
      // Keep the older snapshot if two reads end at the same cursor: it is the safer horizon
      // (another reader may hold that cursor); a late row may then come back once more, which a
      // cache keyed by trial id absorbs.
      if (!this.horizons.has(key)) {
        this.horizons.set(key, rows[0].snap);
        if (this.horizons.size > 4096) this.horizons.delete(this.horizons.keys().next().value!);
      }
    }
    return trials;
  }

  async countTrials(studyId: number, states?: readonly TrialState[]): Promise<number> {
    const { rows } = states
      ? await this.q<{ c: string }>('SELECT COUNT(*) AS c FROM segtune_trials WHERE study_id = $1 AND state = ANY($2::text[])', [studyId, states])
      : await this.q<{ c: string }>('SELECT COUNT(*) AS c FROM segtune_trials WHERE study_id = $1', [studyId]);
    return Number(rows[0].c);
  }

  /** Transitions refused by the database (late tells, reports after the end), oldest first. */
  async refusedTransitions(studyId: number): Promise<RefusedTransition[]> {
    const { rows } = await this.q<{ trial_id: string; number: number; action: RefusedTransition['action']; from_state: TrialState; to_state: TrialState; detail: unknown; created_at: string }>(
      'SELECT trial_id, number, action, from_state, to_state, detail, created_at FROM segtune_refused WHERE study_id = $1 ORDER BY id',
      [studyId],
    );
    return rows.map((r) => ({ trialId: Number(r.trial_id), number: r.number, action: r.action, from: r.from_state, to: r.to_state, detail: r.detail, createdAt: Number(r.created_at) }));
  }

  async outboxAppend(studyId: number, sink: string, events: { kind: string; payload: unknown }[]): Promise<void> {
    if (!events.length) return;
    await this.q(
      `INSERT INTO segtune_outbox (study_id, sink, kind, payload, created_at)
       SELECT $1, $2, e.kind, e.payload, ${NOW} FROM ROWS FROM (jsonb_to_recordset($3::jsonb) AS (kind text, payload jsonb)) WITH ORDINALITY AS e(kind, payload, n) ORDER BY n`,
      [studyId, sink, JSON.stringify(events.map((e) => ({ kind: e.kind, payload: e.payload ?? null })))],
    );
  }

  async outboxPeek(sink: string, limit: number): Promise<OutboxEvent[]> {
    const { rows } = await this.q<{ id: string; study_id: string; sink: string; kind: string; payload: unknown; created_at: string; attempts: number }>(
      'SELECT id, study_id, sink, kind, payload, created_at, attempts FROM segtune_outbox WHERE sink = $1 ORDER BY id LIMIT $2',
      [sink, limit],
    );
    return rows.map((r) => ({ id: Number(r.id), studyId: Number(r.study_id), sink: r.sink, kind: r.kind, payload: r.payload, createdAt: Number(r.created_at), attempts: r.attempts }));
  }

  async outboxAck(ids: readonly number[]): Promise<void> {
    if (!ids.length) return;
    await this.q('DELETE FROM segtune_outbox WHERE id = ANY($1::bigint[])', [ids]);
  }

  async outboxCount(sink: string): Promise<number> {
    const { rows } = await this.q<{ c: string }>('SELECT COUNT(*) AS c FROM segtune_outbox WHERE sink = $1', [sink]);
    return Number(rows[0].c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/**
 * Brings the schema up to date. The version is read first without writing anything, so a
 * database from a newer segtune is refused untouched; migrations run inside one transaction
 * holding an advisory lock, so workers starting together on an empty database wait for each
 * other instead of racing on CREATE TABLE.
 */
async function migrate(client: pg.PoolClient, masked: string): Promise<void> {
  const version = async (): Promise<number> => {
    // pg_class read with the statement's snapshot (not to_regclass, whose catalog cache may not
    // yet show a table another worker created while we waited for the lock).
    const { rows } = await client.query(
      `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'segtune_schema' AND n.nspname = current_schema()`,
    );
    if (!rows.length) return 0;
    const v = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM segtune_schema');
    return v.rows[0].v ?? 0;
  };
  const check = (v: number) => {
    if (v > MIGRATIONS.length) {
      throw new UserError(`--storage: ${masked} was written by a newer segtune (schema ${v}, this one knows up to ${MIGRATIONS.length}); upgrade segtune`);
    }
  };
  const current = await version();
  check(current);
  if (current === MIGRATIONS.length) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK.toString()]);
    const locked = await version();
    check(locked);
    if (locked === 0) await client.query('CREATE TABLE segtune_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (let v = locked; v < MIGRATIONS.length; v++) {
      await client.query(MIGRATIONS[v]);
      await client.query('INSERT INTO segtune_schema (version) VALUES ($1)', [v + 1]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Opens `postgresql://user[:password]@host[:port]/db` (also `postgres://`). */
export function openPostgresStorage(url: string, options?: PostgresOptions): Promise<PostgresStorage> {
  return PostgresStorage.open(url, options);
}

registerStorageScheme('postgresql', (url) => PostgresStorage.open(url));
// `postgres+psycopg2://…` (SQLAlchemy-style, as Optuna users write it) arrives under this key.
registerStorageScheme('postgres', (url) => PostgresStorage.open(url));
