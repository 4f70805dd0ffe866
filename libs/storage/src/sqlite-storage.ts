import Database from 'better-sqlite3';
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
import { rowToStudy, rowToTrial, specToJson, type StudyRow, type TrialRow } from './rows';

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. */
const MIGRATIONS: string[] = [
  `CREATE TABLE studies (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL UNIQUE,
     spec TEXT NOT NULL,
     attrs TEXT NOT NULL DEFAULT '{}',
     created_at INTEGER NOT NULL
   );
   CREATE TABLE trials (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
     number INTEGER NOT NULL,
     state TEXT NOT NULL,
     params TEXT NOT NULL,
     vals TEXT,
     metrics TEXT,
     intermediate TEXT NOT NULL DEFAULT '{}',
     attrs TEXT NOT NULL DEFAULT '{}',
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     heartbeat_at INTEGER,
     seq INTEGER NOT NULL,
     UNIQUE (study_id, number)
   );
   CREATE INDEX trials_seq ON trials(seq);
   CREATE INDEX trials_study_seq ON trials(study_id, seq);
   CREATE INDEX trials_study_state ON trials(study_id, state, number);
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     study_id INTEGER NOT NULL,
     sink TEXT NOT NULL,
     kind TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX outbox_sink ON outbox(sink, id);`,
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The embedded default: one SQLite file in WAL mode, safe for several processes on one machine
 * (a running search and the dashboard). Every write is one transaction.
 */
export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  readonly description: string;
  readonly db: Database.Database;
  private readonly stmts: ReturnType<typeof prepare>;

  constructor(readonly path: string, options: { readonly?: boolean } = {}) {
    this.description = `sqlite:${path}`;
    try {
      this.db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false, timeout: 10_000 });
    } catch (e) {
      throw new UserError(`cannot open storage ${path}: ${(e as Error).message}`);
    }
    try {
      if (!options.readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
      }
      this.db.pragma('busy_timeout = 10000');
      this.db.pragma('foreign_keys = ON');
      if (!options.readonly) this.migrate();
      else if (this.checkVersion() === 0) throw new UserError(`storage ${path} holds no segtune data (an empty or another program's SQLite file)`);
      this.stmts = prepare(this.db);
    } catch (e) {
      this.db.close();
      if (e instanceof UserError) throw e;
      throw new UserError(`cannot use storage ${path}: ${(e as Error).message}`);
    }
  }

  private checkVersion(): number {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new UserError(`storage ${this.path} was written by a newer segtune (schema ${version}, this one knows up to ${MIGRATIONS.length}); upgrade segtune`);
    }
    return version;
  }

  private migrate(): void {
    const run = this.db.transaction(() => {
      const version = this.checkVersion();
      for (let v = version; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]);
      if (version < MIGRATIONS.length) this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    });
    run.immediate();
  }

  async createStudy(spec: StudySpec): Promise<StudyRecord> {
    const now = Date.now();
    try {
      const info = this.stmts.insertStudy.run(spec.name, specToJson(spec), JSON.stringify(spec.attrs ?? {}), now);
      return { ...spec, id: Number(info.lastInsertRowid), createdAt: now, attrs: spec.attrs ?? {} };
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new StudyExistsError(spec.name);
      throw e;
    }
  }

  async getStudy(name: string): Promise<StudyRecord | undefined> {
    const row = this.stmts.studyByName.get(name) as StudyRow | undefined;
    return row ? rowToStudy(row) : undefined;
  }

  async listStudies(): Promise<StudyRecord[]> {
    return (this.stmts.studies.all() as StudyRow[]).map(rowToStudy);
  }

  async setStudyAttrs(studyId: number, attrs: Record<string, unknown>): Promise<void> {
    this.db
      .transaction(() => {
        const row = this.stmts.studyById.get(studyId) as StudyRow | undefined;
        if (!row) throw new Error(`study ${studyId} not found`);
        this.stmts.setStudyAttrs.run(JSON.stringify({ ...JSON.parse(row.attrs), ...attrs }), studyId);
      })
      .immediate();
  }

  private nextSeq(): number {
    return (this.stmts.maxSeq.get() as { s: number }).s + 1;
  }

  /** Trials of the study that count against a limit: every one that is not waiting. */
  private activeCount(studyId: number): number {
    const next = (this.stmts.nextNumber.get(studyId) as { n: number }).n;
    const waiting = (this.stmts.countState.get(studyId, 'waiting') as { c: number }).c;
    return next - waiting;
  }

  async createTrial(studyId: number, init: NewTrial, limit?: TrialLimit): Promise<Trial | undefined> {
    return this.db
      .transaction((): Trial | undefined => {
        if (init.state === 'running' && limit?.maxTrials !== undefined && this.activeCount(studyId) >= limit.maxTrials) return undefined;
        const number = (this.stmts.nextNumber.get(studyId) as { n: number }).n;
        const now = Date.now();
        const seq = this.nextSeq();
        const attrs = init.attrs ?? {};
        const running = init.state === 'running';
        const info = this.stmts.insertTrial.run(studyId, number, init.state, JSON.stringify(init.params), JSON.stringify(attrs), now, running ? now : null, running ? now : null, seq);
        const trial: Trial = { id: Number(info.lastInsertRowid), studyId, number, state: init.state, params: init.params, intermediate: {}, attrs, createdAt: now, seq };
        if (running) {
          trial.startedAt = now;
          trial.heartbeatAt = now;
        }
        return trial;
      })
      .immediate();
  }

  async claimWaitingTrial(studyId: number, attrs: TrialAttrs = {}, limit?: TrialLimit): Promise<Trial | undefined> {
    // Nothing waiting (the common case: no enqueued trials) is seen by a plain read, without a
    // write transaction and its lock; one enqueued after the read is the next ask's.
    if (!this.stmts.oldestWaiting.get(studyId)) return undefined;
    return this.db
      .transaction((): Trial | undefined => {
        const row = this.stmts.oldestWaiting.get(studyId) as TrialRow | undefined;
        if (!row) return undefined;
        if (limit?.maxTrials !== undefined && this.activeCount(studyId) >= limit.maxTrials) return undefined;
        const now = Date.now();
        const merged = { ...JSON.parse(row.attrs), ...attrs };
        this.stmts.claim.run(JSON.stringify(merged), now, now, this.nextSeq(), row.id);
        return rowToTrial(this.stmts.trialById.get(row.id) as TrialRow);
      })
      .immediate();
  }

  async setTrialParams(trialId: number, params: Trial['params'], attrs?: TrialAttrs): Promise<void> {
    const ok = this.db
      .transaction(() => {
        if (!attrs || Object.keys(attrs).length === 0) return this.stmts.setParams.run(JSON.stringify(params), this.nextSeq(), trialId).changes > 0;
        const row = this.stmts.trialById.get(trialId) as TrialRow | undefined;
        if (row?.state !== 'running') return false;
        const merged = JSON.stringify({ ...JSON.parse(row.attrs), ...attrs });
        return this.stmts.setParamsAttrs.run(JSON.stringify(params), merged, this.nextSeq(), trialId).changes > 0;
      })
      .immediate();
    if (!ok) await this.assertRunning(trialId, 'running');
  }

  private async assertRunning(trialId: number, to: TrialState): Promise<never> {
    const row = this.stmts.trialById.get(trialId) as TrialRow | undefined;
    if (!row) throw new TrialNotFoundError(`id ${trialId}`);
    throw new TrialStateError(row.number, row.state as TrialState, to);
  }

  async reportIntermediate(trialId: number, step: number, values: MetricValues): Promise<void> {
    const ok = this.db
      .transaction(() => this.stmts.report.run(`$."${step}"`, JSON.stringify(values), Date.now(), this.nextSeq(), trialId).changes > 0)
      .immediate();
    if (!ok) await this.assertRunning(trialId, 'running');
  }

  async finishTrial(trialId: number, finish: FinishTrial): Promise<Trial> {
    return this.db
      .transaction((): Trial => {
        const row = this.stmts.trialById.get(trialId) as TrialRow | undefined;
        if (!row) throw new TrialNotFoundError(`id ${trialId}`);
        if (!canTransition(row.state as TrialState, finish.state)) throw new TrialStateError(row.number, row.state as TrialState, finish.state);
        const attrs = { ...JSON.parse(row.attrs), ...(finish.attrs ?? {}) };
        const now = Date.now();
        this.stmts.finish.run(
          finish.state,
          finish.values ? JSON.stringify(finish.values) : null,
          finish.metrics ? JSON.stringify(finish.metrics) : null,
          JSON.stringify(attrs),
          now,
          this.nextSeq(),
          trialId,
        );
        return rowToTrial(this.stmts.trialById.get(trialId) as TrialRow);
      })
      .immediate();
  }

  async updateTrialAttrs(trialId: number, attrs: TrialAttrs): Promise<void> {
    this.db
      .transaction(() => {
        const row = this.stmts.trialById.get(trialId) as TrialRow | undefined;
        if (!row) throw new TrialNotFoundError(`id ${trialId}`);
        this.stmts.setAttrs.run(JSON.stringify({ ...JSON.parse(row.attrs), ...attrs }), this.nextSeq(), trialId);
      })
      .immediate();
  }

  async heartbeat(trialIds: readonly number[]): Promise<void> {
    const now = Date.now();
    this.db.transaction(() => {
      for (const id of trialIds) this.stmts.heartbeat.run(now, id);
    })();
  }

  async failStaleTrials(studyId: number, graceMs: number, reason: FailReason, message: string): Promise<Trial[]> {
    const cutoff = Date.now() - graceMs;
    return this.db
      .transaction((): Trial[] => {
        const rows = this.stmts.stale.all(studyId, cutoff) as TrialRow[];
        const out: Trial[] = [];
        for (const row of rows) {
          const attrs = { ...JSON.parse(row.attrs), reason, error: message };
          this.stmts.finish.run('failed', null, row.metrics, JSON.stringify(attrs), Date.now(), this.nextSeq(), row.id);
          out.push(rowToTrial(this.stmts.trialById.get(row.id) as TrialRow));
        }
        return out;
      })
      .immediate();
  }

  async getTrial(trialId: number): Promise<Trial> {
    const row = this.stmts.trialById.get(trialId) as TrialRow | undefined;
    if (!row) throw new TrialNotFoundError(`id ${trialId}`);
    return rowToTrial(row);
  }

  async getTrials(studyId: number, query: TrialQuery = {}): Promise<Trial[]> {
    const rows = (query.sinceSeq ? this.stmts.trialsSince.all(studyId, query.sinceSeq) : this.stmts.trials.all(studyId)) as TrialRow[];
    const trials = rows.map(rowToTrial);
    return query.states ? trials.filter((t) => query.states!.includes(t.state)) : trials;
  }

  async countTrials(studyId: number, states?: readonly TrialState[]): Promise<number> {
    if (!states) return (this.stmts.countAll.get(studyId) as { c: number }).c;
    let n = 0;
    for (const s of states) n += (this.stmts.countState.get(studyId, s) as { c: number }).c;
    return n;
  }

  async outboxAppend(studyId: number, sink: string, events: { kind: string; payload: unknown }[]): Promise<void> {
    const now = Date.now();
    this.db
      .transaction(() => {
        for (const e of events) this.stmts.outboxInsert.run(studyId, sink, e.kind, JSON.stringify(e.payload), now);
      })
      .immediate();
  }

  async outboxPeek(sink: string, limit: number): Promise<OutboxEvent[]> {
    return (this.stmts.outboxPeek.all(sink, limit) as { id: number; study_id: number; sink: string; kind: string; payload: string; created_at: number; attempts: number }[]).map((r) => ({
      id: r.id,
      studyId: r.study_id,
      sink: r.sink,
      kind: r.kind,
      payload: JSON.parse(r.payload),
      createdAt: r.created_at,
      attempts: r.attempts,
    }));
  }

  async outboxAck(ids: readonly number[]): Promise<void> {
    this.db
      .transaction(() => {
        for (const id of ids) this.stmts.outboxDelete.run(id);
      })
      .immediate();
  }

  async outboxCount(sink: string): Promise<number> {
    return (this.stmts.outboxCount.get(sink) as { c: number }).c;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function prepare(db: Database.Database) {
  const cols = 'id, study_id, number, state, params, vals, metrics, intermediate, attrs, created_at, started_at, finished_at, heartbeat_at, seq';
  return {
    insertStudy: db.prepare('INSERT INTO studies (name, spec, attrs, created_at) VALUES (?, ?, ?, ?)'),
    studyByName: db.prepare('SELECT * FROM studies WHERE name = ?'),
    studyById: db.prepare('SELECT * FROM studies WHERE id = ?'),
    studies: db.prepare('SELECT * FROM studies ORDER BY id'),
    setStudyAttrs: db.prepare('UPDATE studies SET attrs = ? WHERE id = ?'),
    maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM trials'),
    nextNumber: db.prepare('SELECT COALESCE(MAX(number), -1) + 1 AS n FROM trials WHERE study_id = ?'),
    insertTrial: db.prepare(
      'INSERT INTO trials (study_id, number, state, params, attrs, created_at, started_at, heartbeat_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    oldestWaiting: db.prepare(`SELECT ${cols} FROM trials WHERE study_id = ? AND state = 'waiting' ORDER BY number LIMIT 1`),
    claim: db.prepare(`UPDATE trials SET state = 'running', attrs = ?, started_at = ?, heartbeat_at = ?, seq = ? WHERE id = ? AND state = 'waiting'`),
    setParams: db.prepare(`UPDATE trials SET params = ?, seq = ? WHERE id = ? AND state = 'running'`),
    setParamsAttrs: db.prepare(`UPDATE trials SET params = ?, attrs = ?, seq = ? WHERE id = ? AND state = 'running'`),
    report: db.prepare(`UPDATE trials SET intermediate = json_set(intermediate, ?, json(?)), heartbeat_at = ?, seq = ? WHERE id = ? AND state = 'running'`),
    finish: db.prepare('UPDATE trials SET state = ?, vals = ?, metrics = ?, attrs = ?, finished_at = ?, seq = ? WHERE id = ?'),
    setAttrs: db.prepare('UPDATE trials SET attrs = ?, seq = ? WHERE id = ?'),
    heartbeat: db.prepare(`UPDATE trials SET heartbeat_at = ? WHERE id = ? AND state = 'running'`),
    stale: db.prepare(`SELECT ${cols} FROM trials WHERE study_id = ? AND state = 'running' AND COALESCE(heartbeat_at, started_at, created_at) < ?`),
    trialById: db.prepare(`SELECT ${cols} FROM trials WHERE id = ?`),
    trials: db.prepare(`SELECT ${cols} FROM trials WHERE study_id = ? ORDER BY number`),
    trialsSince: db.prepare(`SELECT ${cols} FROM trials WHERE study_id = ? AND seq > ? ORDER BY number`),
    countAll: db.prepare('SELECT COUNT(*) AS c FROM trials WHERE study_id = ?'),
    countState: db.prepare('SELECT COUNT(*) AS c FROM trials WHERE study_id = ? AND state = ?'),
    outboxInsert: db.prepare('INSERT INTO outbox (study_id, sink, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)'),
    outboxPeek: db.prepare('SELECT * FROM outbox WHERE sink = ? ORDER BY id LIMIT ?'),
    outboxDelete: db.prepare('DELETE FROM outbox WHERE id = ?'),
    outboxCount: db.prepare('SELECT COUNT(*) AS c FROM outbox WHERE sink = ?'),
  };
}
