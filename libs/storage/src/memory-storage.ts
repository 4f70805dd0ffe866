import {
  StudyExistsError,
  TrialNotFoundError,
  TrialStateError,
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

/**
 * In-process storage for tests, simulations and throwaway studies. Same semantics as the SQL
 * backends (it runs the same conformance suite); values are copied in and out so callers can
 * never mutate what is stored.
 */
export class MemoryStorage implements Storage {
  readonly kind = 'memory' as const;
  readonly description = 'memory';
  private studies: StudyRecord[] = [];
  private trials = new Map<number, Trial>();
  private byStudy = new Map<number, Trial[]>();
  private outbox: OutboxEvent[] = [];
  private seq = 0;
  private nextTrialId = 1;
  private nextOutboxId = 1;

  async createStudy(spec: StudySpec): Promise<StudyRecord> {
    if (this.studies.some((s) => s.name === spec.name)) throw new StudyExistsError(spec.name);
    const record: StudyRecord = { ...structuredClone(spec), id: this.studies.length + 1, createdAt: Date.now(), attrs: structuredClone(spec.attrs ?? {}) };
    this.studies.push(record);
    this.byStudy.set(record.id, []);
    return structuredClone(record);
  }

  async getStudy(name: string): Promise<StudyRecord | undefined> {
    const s = this.studies.find((x) => x.name === name);
    return s && structuredClone(s);
  }

  async listStudies(): Promise<StudyRecord[]> {
    return structuredClone(this.studies);
  }

  async setStudyAttrs(studyId: number, attrs: Record<string, unknown>): Promise<void> {
    const s = this.studies.find((x) => x.id === studyId);
    if (!s) throw new Error(`study ${studyId} not found`);
    s.attrs = { ...s.attrs, ...structuredClone(attrs) };
  }

  private list(studyId: number): Trial[] {
    const l = this.byStudy.get(studyId);
    if (!l) throw new Error(`study ${studyId} not found`);
    return l;
  }

  private activeCount(studyId: number): number {
    return this.list(studyId).filter((t) => t.state !== 'waiting').length;
  }

  async createTrial(studyId: number, init: NewTrial, limit?: TrialLimit): Promise<Trial | undefined> {
    const list = this.list(studyId);
    if (init.state === 'running' && limit?.maxTrials !== undefined && this.activeCount(studyId) >= limit.maxTrials) return undefined;
    const now = Date.now();
    const t: Trial = {
      id: this.nextTrialId++,
      studyId,
      number: list.length,
      state: init.state,
      params: structuredClone(init.params),
      intermediate: {},
      attrs: structuredClone(init.attrs ?? {}),
      createdAt: now,
      seq: ++this.seq,
    };
    if (init.state === 'running') {
      t.startedAt = now;
      t.heartbeatAt = now;
    }
    list.push(t);
    this.trials.set(t.id, t);
    return structuredClone(t);
  }

  async claimWaitingTrial(studyId: number, attrs: TrialAttrs = {}, limit?: TrialLimit): Promise<Trial | undefined> {
    const t = this.list(studyId).find((x) => x.state === 'waiting');
    if (!t) return undefined;
    if (limit?.maxTrials !== undefined && this.activeCount(studyId) >= limit.maxTrials) return undefined;
    const now = Date.now();
    t.state = 'running';
    t.attrs = { ...t.attrs, ...structuredClone(attrs) };
    t.startedAt = now;
    t.heartbeatAt = now;
    t.seq = ++this.seq;
    return structuredClone(t);
  }

  private get(trialId: number): Trial {
    const t = this.trials.get(trialId);
    if (!t) throw new TrialNotFoundError(`id ${trialId}`);
    return t;
  }

  private running(trialId: number): Trial {
    const t = this.get(trialId);
    if (t.state !== 'running') throw new TrialStateError(t.number, t.state, 'running');
    return t;
  }

  async setTrialParams(trialId: number, params: Trial['params'], attrs?: TrialAttrs): Promise<void> {
    const t = this.running(trialId);
    t.params = structuredClone(params);
    if (attrs) t.attrs = { ...t.attrs, ...structuredClone(attrs) };
    t.seq = ++this.seq;
  }

  async reportIntermediate(trialId: number, step: number, values: MetricValues): Promise<void> {
    const t = this.running(trialId);
    t.intermediate = { ...t.intermediate, [step]: { ...values } };
    t.heartbeatAt = Date.now();
    t.seq = ++this.seq;
  }

  async finishTrial(trialId: number, finish: FinishTrial): Promise<Trial> {
    const t = this.get(trialId);
    if (!canTransition(t.state, finish.state)) throw new TrialStateError(t.number, t.state, finish.state);
    t.state = finish.state;
    if (finish.values) t.values = [...finish.values];
    if (finish.metrics) t.metrics = { ...finish.metrics };
    t.attrs = { ...t.attrs, ...structuredClone(finish.attrs ?? {}) };
    t.finishedAt = Date.now();
    t.seq = ++this.seq;
    return structuredClone(t);
  }

  async updateTrialAttrs(trialId: number, attrs: TrialAttrs): Promise<void> {
    const t = this.get(trialId);
    t.attrs = { ...t.attrs, ...structuredClone(attrs) };
    t.seq = ++this.seq;
  }

  async heartbeat(trialIds: readonly number[]): Promise<void> {
    const now = Date.now();
    for (const id of trialIds) {
      const t = this.trials.get(id);
      if (t?.state === 'running') t.heartbeatAt = now;
    }
  }

  async failStaleTrials(studyId: number, graceMs: number, reason: FailReason, message: string): Promise<Trial[]> {
    const cutoff = Date.now() - graceMs;
    const out: Trial[] = [];
    for (const t of this.list(studyId)) {
      if (t.state === 'running' && (t.heartbeatAt ?? t.startedAt ?? t.createdAt) < cutoff) {
        out.push(await this.finishTrial(t.id, { state: 'failed', attrs: { reason, error: message } }));
      }
    }
    return out;
  }

  async getTrial(trialId: number): Promise<Trial> {
    return structuredClone(this.get(trialId));
  }

  async getTrials(studyId: number, query: TrialQuery = {}): Promise<Trial[]> {
    return structuredClone(
      this.list(studyId).filter((t) => (query.sinceSeq === undefined || t.seq > query.sinceSeq) && (!query.states || query.states.includes(t.state))),
    );
  }

  async countTrials(studyId: number, states?: readonly TrialState[]): Promise<number> {
    return this.list(studyId).filter((t) => !states || states.includes(t.state)).length;
  }

  async outboxAppend(studyId: number, sink: string, events: { kind: string; payload: unknown }[]): Promise<void> {
    const now = Date.now();
    for (const e of events) this.outbox.push({ id: this.nextOutboxId++, studyId, sink, kind: e.kind, payload: structuredClone(e.payload), createdAt: now, attempts: 0 });
  }

  async outboxPeek(sink: string, limit: number): Promise<OutboxEvent[]> {
    return structuredClone(this.outbox.filter((e) => e.sink === sink).slice(0, limit));
  }

  async outboxAck(ids: readonly number[]): Promise<void> {
    const drop = new Set(ids);
    this.outbox = this.outbox.filter((e) => !drop.has(e.id));
  }

  async outboxCount(sink: string): Promise<number> {
    return this.outbox.filter((e) => e.sink === sink).length;
  }

  async close(): Promise<void> {}
}
