import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import type { OutboxEvent, Storage, StudyEvent, StudyRecord, Tracker, Trial } from '@segtune/core';
import type { StrategySpec } from '@segtune/space';
import { isMlflowError, MlflowClient, type KeyValue, type MlflowClientOptions, type MlflowMetric, type MlflowRun, type RunStatus } from './mlflow-client';
import { mapKey, mapKeys, paramValue } from './mlflow-keys';

/** How often a down MLflow is probed (its /health). */
const PROBE_MS = 1_000;
/** How long a /health probe waits for its answer (a loaded machine's MLflow can take seconds). */
const HEALTH_TIMEOUT_MS = 10_000;
/** How long a final flush waits when MLflow does not answer at all. */
const UNREACHABLE_FLUSH_MS = 1_000;

/** The outbox sink name the tracker uses unless told otherwise. */
export const MLFLOW_SINK = 'mlflow';

export interface MlflowTrackerOptions {
  /** The tracking server (see resolveTrackingUri). */
  uri: string;
  /** The study's storage: its outbox holds the events until MLflow has them. */
  storage: Storage;
  /** Experiment name; the study name by default. */
  experimentName?: string;
  /**
   * Outbox sink. Processes that flush the same sink of a shared storage would send the same
   * events twice, so each worker on a shared (PostgreSQL) storage needs its own, stable sink,
   * e.g. `mlflow:<host>`; a restarted worker with the same sink drains what its predecessor left.
   */
  sink?: string;
  /** One line each time MLflow goes down or comes back, and for each event MLflow rejects. */
  onWarning?: (line: string) => void;
  /** Most events sent per cycle. Default 2000. */
  batchEvents?: number;
  /** Pause between cycles so that one cycle carries many events (fewer requests). Default 250 ms. */
  coalesceMs?: number;
  /**
   * How long a new parent run must exist before workers settle on the earliest one (see
   * findOrCreateParent). Default 2000 ms; delays only the flusher, once per study.
   */
  parentSettleMs?: number;
  /** Requests in flight at once while sending (for different runs). Default 4. */
  concurrency?: number;
  /** Back-off while MLflow is unreachable: from retryMinMs, doubling, up to retryMaxMs. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Client settings (retries, timeouts, headers, fetch). */
  client?: Omit<MlflowClientOptions, 'uri' | 'signal'>;
}

// What the outbox stores: small, self-contained payloads (a restarted process has only these).
interface StudyRef {
  id: number;
  name: string;
  createdAt: number;
  objectives: string[];
}

interface StudyInfo extends StudyRef {
  directions: ('minimize' | 'maximize')[];
  sampler?: StrategySpec;
  scheduler?: StrategySpec;
  seed: number;
  budget?: { name: string; min: number; max: number };
  constraints?: string[];
  maxTrials?: number;
  storage: string;
}

type Attrs = Record<string, string | number | boolean | null>;

interface StudyStartedPayload {
  study: StudyInfo;
  spaceSource?: string;
  spaceName: string;
  ts: number;
}
interface TrialStartedPayload {
  study: StudyRef;
  number: number;
  trialId: number;
  params: Record<string, string | number | boolean>;
  attrs: Attrs;
  ts: number;
}
interface TrialReportedPayload {
  study: StudyRef;
  number: number;
  step: number;
  values: Record<string, number>;
  ts: number;
}
interface TrialFinishedPayload {
  study: StudyRef;
  number: number;
  trialId: number;
  state: 'complete' | 'pruned' | 'failed';
  metrics: Record<string, number>;
  params: Record<string, string | number | boolean>;
  attrs: Attrs;
  startedAt?: number;
  lastStep?: number;
  ts: number;
}
interface StudyFinishedPayload {
  study: StudyInfo;
  best: { number: number; values: number[]; params: Record<string, string | number | boolean> }[];
  counts?: Record<string, number>;
  ts: number;
}

interface RunState {
  runId: string;
  experimentId: string;
  artifactUri: string;
  /** Params MLflow already holds for the run (logged once; a changed value is an error). */
  params: Map<string, string>;
  /** mlflow key → original name, for names MLflow's key rules forced us to change. */
  keyMap: Record<string, string>;
}

interface StudyState {
  experimentId: string;
  parent: RunState;
  children: Map<number, RunState>;
  /** A create-run whose answer was lost may have made a run: look again before creating. */
  childrenStale: boolean;
}

interface RunBatch {
  run: RunState;
  metrics: MlflowMetric[];
  params: KeyValue[];
  tags: KeyValue[];
  keyMapChanged: boolean;
  update?: { status: RunStatus; endTime?: number };
  artifacts: { path: string; body: string; type: string }[];
}

const TERMINAL_STATUS: Record<TrialFinishedPayload['state'], RunStatus> = { complete: 'FINISHED', pruned: 'FINISHED', failed: 'FAILED' };
const KNOWN_ATTRS = ['worker', 'gpu', 'backend', 'reason', 'error', 'bracket', 'enqueued', 'retry_of', 'retries'];
/** Consecutive 5xx answers to the same events before they are treated as rejected. */
const MAX_SERVER_ERRORS = 5;

/**
 * Sends study events to MLflow through a durable outbox. `handle` only queues the event (one
 * storage append per tick, never awaited by the study); a background flusher sends the outbox
 * in order, in batches, and acknowledges events only after MLflow has them. Replays are
 * harmless: runs are found by tag before they are created (`segtune.study_id` +
 * `segtune.study_created` for the study's parent run, `mlflow.parentRunId` +
 * `segtune.trial_number` for a trial's run), params already on a run are not sent again,
 * metrics carry the timestamp of the original event (MLflow drops an identical metric), tags and
 * artifacts overwrite. While MLflow is unreachable the flusher backs off and says so once;
 * events wait in the storage, also across restarts.
 */
export class MlflowTracker implements Tracker {
  readonly name = 'mlflow';
  readonly uri: string;
  readonly client: MlflowClient;
  readonly sink: string;
  private readonly storage: Storage;
  private readonly options: MlflowTrackerOptions;
  private readonly abort = new AbortController();
  private readonly warn: (line: string) => void;
  private readonly concurrency: number;

  private buffer: { studyId: number; kind: string; payload: unknown; prepare?: () => Promise<void> }[] = [];
  private appendScheduled = false;
  private appendChain: Promise<void> = Promise.resolve();
  private appendFailing = false;

  private readonly experiments = new Map<string, string>();
  private readonly studies = new Map<string, StudyState>();
  private lastStudyKey: string | undefined;
  private studyWaiters: { key: string; resolve: () => void }[] = [];

  private loopPromise: Promise<void> | undefined;
  private closed = false;
  private down = false;
  private flushing = 0;
  private backoffMs: number;
  private wake: (() => void) | undefined;
  private wakeBackoff: (() => void) | undefined;
  /** flush() callers waiting for an empty outbox; `after` = the first peek that may answer them. */
  private drainWaiters: { after: number; resolve: () => void }[] = [];
  private peeks = 0;
  /** Set by every append, so that an append during a peek is never slept through. */
  private dirty = false;
  private serverErrors = { firstId: -1, count: 0 };
  private sentEvents = 0;
  private readonly badEvents = new Set<string>();
  private rejectedEvents = 0;

  constructor(options: MlflowTrackerOptions) {
    this.options = options;
    this.uri = options.uri.replace(/\/+$/, '');
    this.storage = options.storage;
    this.sink = options.sink ?? MLFLOW_SINK;
    this.warn = options.onWarning ?? ((line) => process.emitWarning(line, 'MlflowTracker'));
    this.backoffMs = options.retryMinMs ?? 500;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.client = new MlflowClient({ retries: 2, baseDelayMs: 200, maxDelayMs: 2000, timeoutMs: 15_000, ...options.client, uri: this.uri, signal: this.abort.signal });
  }

  /** Starts the background flusher (also started by the first event): drains what an earlier run left. */
  start(): void {
    if (this.closed || this.loopPromise) return;
    this.loopPromise = this.loop();
  }

  handle(event: StudyEvent): void {
    if (this.closed) return;
    try {
      this.record(event);
    } catch (e) {
      // Tracking never fails a search; a malformed event is reported once per kind.
      if (!this.badEvents.has(event?.kind)) this.warn(`MLflow tracking ignored a malformed ${String(event?.kind)} event: ${firstLine(e)}`);
      this.badEvents.add(event?.kind);
    }
  }

  private record(event: StudyEvent): void {
    const ref = studyRef(event.study);
    this.lastStudyKey ??= studyKey(ref);
    switch (event.kind) {
      case 'study-started': {
        let spaceSource = event.study.spaceSource;
        if (spaceSource === undefined && event.spaceFile) {
          try {
            spaceSource = readFileSync(event.spaceFile, 'utf8');
          } catch {
            // The space file is a courtesy artifact; its absence must not stop tracking.
          }
        }
        const payload: StudyStartedPayload = {
          study: studyInfo(event.study, this.storage.description),
          spaceSource,
          spaceName: event.spaceFile ? basename(event.spaceFile) : 'space.yaml',
          ts: Date.now(),
        };
        this.lastStudyKey = studyKey(ref);
        this.queue(ref.id, event.kind, payload);
        break;
      }
      case 'trial-started': {
        const t = event.trial;
        const payload: TrialStartedPayload = { study: ref, number: t.number, trialId: t.id, params: { ...t.params }, attrs: scalarAttrs(t.attrs), ts: t.startedAt ?? Date.now() };
        this.queue(ref.id, event.kind, payload);
        break;
      }
      case 'trial-reported': {
        const payload: TrialReportedPayload = { study: ref, number: event.trial.number, step: event.step, values: { ...event.values }, ts: Date.now() };
        this.queue(ref.id, event.kind, payload);
        break;
      }
      case 'trial-finished': {
        const t = event.trial;
        const steps = Object.keys(t.intermediate ?? {}).map(Number);
        const metrics: Record<string, number> = { ...(t.metrics ?? {}) };
        if (t.values) ref.objectives.forEach((o, i) => (metrics[o] ??= t.values![i]));
        const payload: TrialFinishedPayload = {
          study: ref,
          number: t.number,
          trialId: t.id,
          state: t.state as TrialFinishedPayload['state'],
          metrics,
          params: { ...t.params },
          attrs: scalarAttrs(t.attrs),
          startedAt: t.startedAt,
          lastStep: steps.length ? Math.max(...steps) : undefined,
          ts: t.finishedAt ?? Date.now(),
        };
        this.queue(ref.id, event.kind, payload);
        break;
      }
      case 'study-finished': {
        const payload: StudyFinishedPayload = {
          study: studyInfo(event.study, this.storage.description),
          best: event.best.filter((t) => t.values).map((t) => ({ number: t.number, values: [...t.values!], params: { ...t.params } })),
          ts: Date.now(),
        };
        const prepare = async () => {
          const counts: Record<string, number> = {};
          for (const s of ['complete', 'pruned', 'failed'] as const) counts[s] = await this.storage.countTrials(ref.id, [s]);
          counts.total = await this.storage.countTrials(ref.id);
          payload.counts = counts;
        };
        this.queue(ref.id, event.kind, payload, prepare);
        break;
      }
    }
  }

  /**
   * Waits until every handled event is in the outbox and, within `timeoutMs`, sent to MLflow.
   * What is still unsent then stays in the storage (one warning line says how much) and goes
   * out with the next tracker on that storage.
   */
  async flush(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    let deadline = Date.now() + timeoutMs;
    this.flushing++;
    try {
      this.drainBuffer();
      await withTimeout(this.appendChain, timeoutMs);
      this.start();
      // A server that does not answer gets a short wait; one that does gets all of timeoutMs.
      if (this.down && !(await this.client.health(Math.min(HEALTH_TIMEOUT_MS, Math.max(1, deadline - Date.now()))))) deadline = Math.min(deadline, Date.now() + UNREACHABLE_FLUSH_MS);
      // Only a peek that starts after this point can tell that everything went out.
      const drained = new Promise<void>((resolve) => this.drainWaiters.push({ after: this.peeks + 1, resolve }));
      this.wake?.();
      this.wakeBackoff?.();
      await withTimeout(drained, Math.max(0, deadline - Date.now()));
      const left = await this.storage.outboxCount(this.sink).catch(() => 0);
      if (left > 0) this.warn(`${left} MLflow tracking event(s) not sent yet (${this.down ? `MLflow unreachable at ${this.uri}` : 'time ran out'}); they wait in ${this.storage.description} and are sent by the next segtune run on it`);
    } finally {
      this.flushing--;
    }
  }

  /** Stops the flusher (without flushing: call flush first). The storage stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.drainBuffer();
    await this.appendChain.catch(() => undefined);
    this.closed = true;
    this.abort.abort();
    this.wake?.();
    this.wakeBackoff?.();
    await this.loopPromise?.catch(() => undefined);
    for (const w of this.studyWaiters) w.resolve();
    for (const w of this.drainWaiters) w.resolve();
    this.studyWaiters = [];
    this.drainWaiters = [];
  }

  /**
   * The MLflow address of the current study's parent run,
   * `<uri>/#/experiments/<id>/runs/<run_id>`, once the flusher has found or created it; undefined
   * when MLflow did not answer within `timeoutMs` or no study started yet.
   */
  async runUrl(timeoutMs = 5000): Promise<string | undefined> {
    const key = this.lastStudyKey;
    if (!key) return undefined;
    if (!this.studies.has(key) && !this.down) {
      this.start();
      this.wake?.();
      await withTimeout(new Promise<void>((resolve) => this.studyWaiters.push({ key, resolve })), timeoutMs);
    }
    const st = this.studies.get(key);
    return st ? `${this.uri}/#/experiments/${st.experimentId}/runs/${st.parent.runId}` : undefined;
  }

  /** The experiment's address, once known. */
  experimentUrl(): string | undefined {
    const st = this.lastStudyKey ? this.studies.get(this.lastStudyKey) : undefined;
    return st ? `${this.uri}/#/experiments/${st.experimentId}` : undefined;
  }

  /** Counters for benchmarks and status lines. */
  stats(): { requests: number; sentEvents: number; rejectedEvents: number; down: boolean } {
    return { requests: this.client.requests, sentEvents: this.sentEvents, rejectedEvents: this.rejectedEvents, down: this.down };
  }

  // Queueing: one storage append per tick keeps the study's hot path free of tracking work.

  private queue(studyId: number, kind: string, payload: unknown, prepare?: () => Promise<void>): void {
    this.buffer.push({ studyId, kind, payload, prepare });
    if (!this.appendScheduled) {
      this.appendScheduled = true;
      setImmediate(() => this.drainBuffer());
    }
  }

  private drainBuffer(): void {
    this.appendScheduled = false;
    if (this.buffer.length === 0) return;
    const items = this.buffer;
    this.buffer = [];
    this.appendChain = this.appendChain.then(async () => {
      try {
        for (const it of items) await it.prepare?.().catch(() => undefined);
        // Consecutive events of one study go in one append (one transaction).
        for (let i = 0; i < items.length; ) {
          let j = i;
          while (j < items.length && items[j].studyId === items[i].studyId) j++;
          await this.storage.outboxAppend(
            items[i].studyId,
            this.sink,
            items.slice(i, j).map((it) => ({ kind: it.kind, payload: it.payload })),
          );
          items.splice(i, j - i);
        }
        this.appendFailing = false;
      } catch (e) {
        // Keep what was not stored and try again with the next events.
        this.buffer.unshift(...items.map((it) => ({ ...it, prepare: undefined })));
        if (!this.appendFailing) this.warn(`could not queue MLflow events in ${this.storage.description}: ${(e as Error).message}`);
        this.appendFailing = true;
        return;
      }
      this.dirty = true;
      this.start();
      if (!this.down) this.wake?.();
    });
  }

  // The flusher.

  private async loop(): Promise<void> {
    while (!this.closed) {
      // While MLflow is down, a cheap /health probe decides whether to read the outbox at all.
      // It runs every PROBE_MS, not on the growing back-off, so that queued events go out within
      // a second of MLflow's return; and it waits long enough for a server on a loaded machine.
      if (this.down && !(await this.client.health(HEALTH_TIMEOUT_MS))) {
        if (this.closed) break;
        await this.sleepBackoff(PROBE_MS);
        continue;
      }
      let events: OutboxEvent[];
      const peek = ++this.peeks;
      this.dirty = false;
      try {
        events = await this.storage.outboxPeek(this.sink, this.options.batchEvents ?? 2000);
      } catch (e) {
        if (this.closed) break;
        this.warnDown(`cannot read the tracking outbox in ${this.storage.description}: ${(e as Error).message}`);
        await this.sleepBackoff();
        continue;
      }
      if (events.length === 0) {
        this.drainWaiters = this.drainWaiters.filter((w) => (w.after <= peek ? (w.resolve(), false) : true));
        if (this.dirty || this.drainWaiters.length || this.closed) continue;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        await this.deliver(events);
        if (this.down) {
          this.down = false;
          this.warn(`MLflow is reachable again at ${this.uri}; sending the queued tracking events`);
        }
        this.backoffMs = this.options.retryMinMs ?? 500;
      } catch (e) {
        if (this.closed) break;
        const unreachable = isMlflowError(e) && e.status === undefined;
        const why = unreachable ? firstLine(e) : `MLflow at ${this.uri} is failing (${firstLine(e)})`;
        this.warnDown(`${why}; the search goes on and tracking events wait in ${this.storage.description} until it is back`);
        // Unreachable: the /health probe above says when it is back. Answering with errors: back off.
        await this.sleepBackoff(unreachable ? PROBE_MS : undefined);
        continue;
      }
      if (events.length < (this.options.batchEvents ?? 2000) && !this.flushing && !this.closed) {
        await this.sleep(this.options.coalesceMs ?? 250);
      }
    }
  }

  private warnDown(line: string): void {
    if (this.down) return;
    this.down = true;
    this.warn(line);
    // Whoever waits for the run's address stops waiting: there is none while MLflow is down.
    for (const w of this.studyWaiters) w.resolve();
    this.studyWaiters = [];
  }

  private async sleepBackoff(capMs = Infinity): Promise<void> {
    const ms = Math.min(capMs, this.flushing ? Math.min(this.backoffMs, 1000) : this.backoffMs);
    this.backoffMs = Math.min(this.options.retryMaxMs ?? 30_000, this.backoffMs * 2);
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      t.unref?.();
      this.wakeBackoff = done;
      function done() {
        clearTimeout(t);
        resolve();
      }
    });
    this.wakeBackoff = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms));
      t.unref?.();
    });
  }

  /**
   * Sends a batch of events and acknowledges them. Unreachable servers and 5xx answers throw (the
   * loop backs off and the events are sent again). A batch that MLflow rejects (4xx) is sent again
   * one event at a time, so that only the event MLflow refuses is skipped, with a warning.
   */
  private async deliver(events: OutboxEvent[]): Promise<void> {
    let rejected = false;
    try {
      await this.process(events);
    } catch (e) {
      if (!this.isRejection(e, events[0].id)) throw e;
      rejected = true;
    }
    if (!rejected) {
      await this.storage.outboxAck(events.map((e) => e.id));
      this.sentEvents += events.length;
      this.serverErrors = { firstId: -1, count: 0 };
      return;
    }
    for (const ev of events) {
      try {
        await this.process([ev]);
        this.sentEvents++;
      } catch (e) {
        if (!this.isRejection(e, ev.id)) throw e;
        this.rejectedEvents++;
        this.warn(`MLflow rejected ${describeEvent(ev)}; skipped: ${firstLine(e)}`);
      }
      await this.storage.outboxAck([ev.id]);
    }
    this.serverErrors = { firstId: -1, count: 0 };
  }

  private isRejection(e: unknown, firstId: number): boolean {
    if (!isMlflowError(e)) return !(e instanceof Error && e.name === 'AbortError') && !this.closed;
    if (!e.retryable) return true;
    // A server that answers 5xx to the same events again and again will not take them.
    if (e.status !== undefined) {
      if (this.serverErrors.firstId === firstId) this.serverErrors.count++;
      else this.serverErrors = { firstId, count: 1 };
      return this.serverErrors.count >= MAX_SERVER_ERRORS;
    }
    return false;
  }

  private async process(events: OutboxEvent[]): Promise<void> {
    await this.prepareRuns(events);
    const batches = new Map<string, RunBatch>();
    const batchFor = (run: RunState): RunBatch => {
      let b = batches.get(run.runId);
      if (!b) {
        b = { run, metrics: [], params: [], tags: [], keyMapChanged: false, artifacts: [] };
        batches.set(run.runId, b);
      }
      return b;
    };

    for (const ev of events) {
      switch (ev.kind) {
        case 'study-started': {
          const p = ev.payload as StudyStartedPayload;
          const st = await this.ensureStudy(p.study);
          const b = batchFor(st.parent);
          addParams(b, studyParams(p.study));
          b.tags.push({ key: 'segtune.state', value: 'running' });
          b.update = { status: 'RUNNING' };
          if (p.spaceSource !== undefined) b.artifacts.push({ path: p.spaceName, body: p.spaceSource, type: 'application/yaml' });
          break;
        }
        case 'trial-started': {
          const p = ev.payload as TrialStartedPayload;
          const st = await this.ensureStudy(p.study);
          const run = await this.ensureChild(st, p.study, p.number, p.trialId, p.ts, p.attrs);
          const b = batchFor(run);
          addParams(b, p.params);
          addAttrTags(b, p.attrs);
          break;
        }
        case 'trial-reported': {
          const p = ev.payload as TrialReportedPayload;
          const st = await this.ensureStudy(p.study);
          const run = await this.ensureChild(st, p.study, p.number, undefined, p.ts, {});
          const b = batchFor(run);
          for (const [k, v] of Object.entries(p.values)) b.metrics.push({ key: metricKey(b, k), value: v, timestamp: p.ts, step: p.step });
          break;
        }
        case 'trial-finished': {
          const p = ev.payload as TrialFinishedPayload;
          const st = await this.ensureStudy(p.study);
          const run = await this.ensureChild(st, p.study, p.number, p.trialId, p.startedAt ?? p.ts, p.attrs);
          const b = batchFor(run);
          addParams(b, p.params);
          for (const [k, v] of Object.entries(p.metrics)) b.metrics.push({ key: metricKey(b, `final/${k}`), value: v, timestamp: p.ts, step: p.lastStep ?? 0 });
          addAttrTags(b, p.attrs);
          b.tags.push({ key: 'segtune.state', value: p.state });
          b.update = { status: TERMINAL_STATUS[p.state], endTime: p.ts };
          break;
        }
        case 'study-finished': {
          const p = ev.payload as StudyFinishedPayload;
          const st = await this.ensureStudy(p.study);
          const b = batchFor(st.parent);
          studyResults(b, st, p);
          b.tags.push({ key: 'segtune.state', value: 'finished' });
          b.update = { status: 'FINISHED', endTime: p.ts };
          break;
        }
        default:
          // An event kind this version does not know (written by a newer segtune): skip it.
          break;
      }
    }

    // Runs are independent: their batches go out side by side (each run's calls stay in order).
    await inParallel([...batches.values()], this.concurrency, async (b) => {
      const run = b.run;
      // Params go once per run: drop those MLflow holds already; a changed value is kept as a tag.
      const params: KeyValue[] = [];
      for (const p of b.params) {
        const had = run.params.get(p.key);
        if (had === undefined) params.push(p);
        else if (had !== p.value) b.tags.push({ key: `segtune.param_changed.${p.key}`.slice(0, 250), value: p.value });
      }
      if (b.keyMapChanged) b.tags.push({ key: 'segtune.key_map', value: JSON.stringify(run.keyMap) });
      if (params.length || b.metrics.length || b.tags.length) await this.client.logBatch(run.runId, { params, metrics: b.metrics, tags: b.tags });
      for (const p of params) if (!run.params.has(p.key)) run.params.set(p.key, p.value);
      for (const a of b.artifacts) await this.client.uploadArtifact(run.artifactUri, a.path, a.body, a.type);
      if (b.update) await this.client.updateRun(run.runId, b.update);
    });
  }

  /** Finds or creates the runs of every trial in the events at once, before the events are planned. */
  private async prepareRuns(events: OutboxEvent[]): Promise<void> {
    const wanted = new Map<string, { st: StudyState; ref: StudyRef; number: number; trialId?: number; ts: number; attrs: Attrs }>();
    for (const ev of events) {
      const p = ev.payload as Partial<TrialStartedPayload & TrialFinishedPayload>;
      if (!p.study || p.number === undefined || !ev.kind.startsWith('trial-')) continue;
      const st = await this.ensureStudy(p.study);
      const key = `${studyKey(p.study)}#${p.number}`;
      if (st.children.has(p.number) || wanted.has(key)) continue;
      wanted.set(key, { st, ref: p.study, number: p.number, trialId: p.trialId, ts: p.startedAt ?? p.ts ?? Date.now(), attrs: p.attrs ?? {} });
    }
    // A stale child list is reloaded once, not by every parallel creator.
    for (const st of new Set([...wanted.values()].map((w) => w.st))) {
      if (!st.childrenStale) continue;
      st.children = await this.loadChildren(st.experimentId, st.parent.runId);
      st.childrenStale = false;
    }
    await inParallel([...wanted.values()], this.concurrency, (w) => this.ensureChild(w.st, w.ref, w.number, w.trialId, w.ts, w.attrs, false).then(() => undefined));
  }

  // Finding runs (never twice: by tag first, then create).

  private async ensureStudy(ref: StudyRef | StudyInfo): Promise<StudyState> {
    const key = studyKey(ref);
    const known = this.studies.get(key);
    if (known) return known;
    const expName = this.options.experimentName ?? ref.name;
    let experimentId = this.experiments.get(expName);
    if (!experimentId) {
      experimentId = await this.client.getOrCreateExperiment(expName);
      this.experiments.set(expName, experimentId);
    }
    const parent = await this.findOrCreateParent(experimentId, ref);
    const children = await this.loadChildren(experimentId, parent.runId);
    const st: StudyState = { experimentId, parent: runState(parent), children, childrenStale: false };
    this.studies.set(key, st);
    this.studyWaiters = this.studyWaiters.filter((w) => (w.key === key ? (w.resolve(), false) : true));
    return st;
  }

  /**
   * The study's parent run. Several workers may look for it at once, and MLflow has no
   * create-if-absent for runs, so every process settles on the same one by a rule that does not
   * depend on who looked when: the parent is the active candidate with the earliest start time
   * (then run id), judged only once `settleMs` have passed since that start time. A creator
   * whose own create took longer than half of that withdraws its run and looks again, so every
   * surviving candidate was visible within `settleMs` of its start; losers delete their own run.
   * (Across machines, clocks must agree to well within `settleMs`.)
   */
  private async findOrCreateParent(experimentId: string, ref: StudyRef | StudyInfo): Promise<MlflowRun> {
    const settleMs = this.options.parentSettleMs ?? 2000;
    const filter = `tags.\`segtune.kind\` = 'study' and tags.\`segtune.study_id\` = '${ref.id}' and tags.\`segtune.study_created\` = '${ref.createdAt}'`;
    const search = () => this.client.searchAllRuns({ experimentIds: [experimentId], filter });
    for (let attempt = 0; ; attempt++) {
      const found = await search();
      if (found.length) {
        const earliest = pickParent(found);
        const wait = (earliest.startTime ?? 0) + settleMs - Date.now();
        if (wait <= 0) return earliest;
        await this.sleep(wait);
        const again = await search();
        return pickParent(again.length ? again : found);
      }
      const tags: KeyValue[] = [
        { key: 'segtune.kind', value: 'study' },
        { key: 'segtune.study', value: ref.name },
        { key: 'segtune.study_id', value: String(ref.id) },
        { key: 'segtune.study_created', value: String(ref.createdAt) },
        { key: 'segtune.storage', value: this.storage.description },
        { key: 'mlflow.source.name', value: 'segtune' },
        { key: 'mlflow.source.type', value: 'LOCAL' },
        { key: 'mlflow.user', value: currentUser() },
      ];
      const startTime = Date.now();
      const created = await this.client.createRun({ experimentId, runName: ref.name, startTime, tags });
      if (Date.now() - startTime > settleMs / 2 && attempt < 3) {
        // Others may already have settled without seeing this run: withdraw it.
        await this.client.deleteRun(created.runId);
        continue;
      }
      await this.sleep(startTime + settleMs - Date.now());
      const all = await search();
      const winner = pickParent(all.length ? all : [created]);
      if (winner.runId !== created.runId) await this.client.deleteRun(created.runId);
      return winner;
    }
  }

  private async loadChildren(experimentId: string, parentRunId: string): Promise<Map<number, RunState>> {
    const runs = await this.client.searchAllRuns({ experimentIds: [experimentId], filter: `tags.\`mlflow.parentRunId\` = '${parentRunId}'` });
    const out = new Map<number, RunState>();
    for (const r of runs.sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0) || a.runId.localeCompare(b.runId))) {
      const n = Number(r.tags['segtune.trial_number']);
      if (Number.isInteger(n) && !out.has(n)) out.set(n, runState(r));
    }
    return out;
  }

  private async ensureChild(st: StudyState, ref: StudyRef, number: number, trialId: number | undefined, startTime: number, attrs: Attrs, reload = true): Promise<RunState> {
    let run = st.children.get(number);
    if (run) return run;
    // (Never while creators run in parallel: a reload could drop a sibling's fresh run.)
    if (st.childrenStale && reload) {
      st.children = await this.loadChildren(st.experimentId, st.parent.runId);
      st.childrenStale = false;
      run = st.children.get(number);
      if (run) return run;
    }
    const tags: KeyValue[] = [
      { key: 'mlflow.parentRunId', value: st.parent.runId },
      { key: 'segtune.kind', value: 'trial' },
      { key: 'segtune.study', value: ref.name },
      { key: 'segtune.study_id', value: String(ref.id) },
      { key: 'segtune.trial_number', value: String(number) },
      { key: 'segtune.state', value: 'running' },
      { key: 'mlflow.source.name', value: 'segtune' },
      { key: 'mlflow.user', value: currentUser() },
    ];
    if (trialId !== undefined) tags.push({ key: 'segtune.trial_id', value: String(trialId) });
    if (attrs.worker !== undefined && attrs.worker !== null) tags.push({ key: 'segtune.worker', value: String(attrs.worker) });
    try {
      const created = await this.client.createRun({ experimentId: st.experimentId, runName: trialRunName(number), startTime, tags });
      run = runState(created);
    } catch (e) {
      // The run may exist although the answer was lost.
      if (!isMlflowError(e) || e.retryable) st.childrenStale = true;
      throw e;
    }
    st.children.set(number, run);
    return run;
  }
}

/** Creates an MLflow tracker and starts its flusher, so that what an earlier run left is sent. */
export function createMlflowTracker(options: MlflowTrackerOptions): MlflowTracker {
  const t = new MlflowTracker(options);
  t.start();
  return t;
}

/** `trial-0007`: readable and sorting in trial order up to 9,999 trials. */
export function trialRunName(number: number): string {
  return `trial-${String(number).padStart(4, '0')}`;
}

function studyKey(ref: { id: number; createdAt: number }): string {
  return `${ref.id}@${ref.createdAt}`;
}

function studyRef(r: StudyRecord): StudyRef {
  return { id: r.id, name: r.name, createdAt: r.createdAt, objectives: r.objectives.map((o) => o.name) };
}

function studyInfo(r: StudyRecord, storage: string): StudyInfo {
  return {
    ...studyRef(r),
    directions: r.objectives.map((o) => o.direction),
    sampler: r.sampler,
    scheduler: r.scheduler,
    seed: r.seed,
    budget: r.budget,
    constraints: r.constraints,
    maxTrials: r.limits?.trials,
    storage,
  };
}

function studyParams(s: StudyInfo): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {
    objectives: s.objectives.map((o, i) => `${o}:${s.directions[i]}`).join(','),
    sampler: s.sampler?.kind ?? 'default',
    scheduler: s.scheduler?.kind ?? 'none',
    seed: s.seed,
  };
  for (const [prefix, spec] of [['sampler', s.sampler], ['scheduler', s.scheduler]] as const) {
    for (const [k, v] of Object.entries(spec ?? {})) if (k !== 'kind') out[`${prefix}.${k}`] = typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as string | number | boolean);
  }
  if (s.budget) out.budget = `${s.budget.name} ${s.budget.min}..${s.budget.max}`;
  if (s.constraints?.length) out.constraints = s.constraints.join('; ');
  if (s.maxTrials !== undefined) out.max_trials = s.maxTrials;
  return out;
}

function studyResults(b: RunBatch, st: StudyState, p: StudyFinishedPayload): void {
  const s = p.study;
  const best = [...p.best].sort((x, y) => x.values[0] - y.values[0] || x.number - y.number);
  s.objectives.forEach((o, i) => {
    if (!best.length) return;
    const vals = best.map((t) => t.values[i]);
    const v = s.directions[i] === 'maximize' ? Math.max(...vals) : Math.min(...vals);
    b.metrics.push({ key: metricKey(b, `best/${o}`), value: v, timestamp: p.ts, step: 0 });
    // The front as a metric series (step = position along the first objective) charts in MLflow.
    if (s.objectives.length > 1) best.forEach((t, j) => b.metrics.push({ key: metricKey(b, `pareto/${o}`), value: t.values[i], timestamp: p.ts, step: j }));
  });
  b.metrics.push({ key: 'pareto/size', value: best.length, timestamp: p.ts, step: 0 });
  for (const [k, v] of Object.entries(p.counts ?? {})) b.metrics.push({ key: `trials/${k}`, value: v, timestamp: p.ts, step: 0 });
  b.tags.push({ key: 'segtune.best_trials', value: best.map((t) => t.number).join(',') });
  const rows = best.map((t) => ({
    number: t.number,
    run_id: st.children.get(t.number)?.runId ?? null,
    values: Object.fromEntries(s.objectives.map((o, i) => [o, t.values[i]])),
    params: t.params,
  }));
  b.artifacts.push({ path: 'pareto_front.json', body: `${JSON.stringify({ study: s.name, objectives: s.objectives.map((o, i) => ({ name: o, direction: s.directions[i] })), trials: rows }, null, 2)}\n`, type: 'application/json' });
  const paramNames = [...new Set(best.flatMap((t) => Object.keys(t.params)))];
  const csv = [['trial', ...s.objectives, ...paramNames].map(csvCell).join(',')];
  for (const t of best) csv.push([t.number, ...t.values, ...paramNames.map((n) => t.params[n] ?? '')].map(csvCell).join(','));
  b.artifacts.push({ path: 'pareto_front.csv', body: `${csv.join('\n')}\n`, type: 'text/csv' });
}

function addParams(b: RunBatch, params: Record<string, unknown>): void {
  const names = Object.keys(params);
  const keys = mapKeys(names);
  for (const n of names) {
    const key = keys.get(n)!;
    if (key !== n) noteMapped(b, key, n);
    b.params.push({ key, value: paramValue(params[n]) });
  }
}

function metricKey(b: RunBatch, name: string): string {
  const key = mapKey(name);
  if (key !== name) noteMapped(b, key, name);
  return key;
}

function noteMapped(b: RunBatch, key: string, name: string): void {
  if (b.run.keyMap[key] === name) return;
  b.run.keyMap[key] = name;
  b.keyMapChanged = true;
}

function addAttrTags(b: RunBatch, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    const value = v === null ? (k === 'gpu' ? 'cpu' : '') : String(v);
    const key = KNOWN_ATTRS.includes(k) ? `segtune.${k}` : `segtune.attr.${mapKey(k)}`;
    b.tags.push({ key: key.slice(0, 250), value });
  }
}

function scalarAttrs(attrs: Trial['attrs'] | undefined): Attrs {
  const out: Attrs = {};
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined) continue;
    out[k] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
  }
  return out;
}

function runState(r: MlflowRun): RunState {
  let keyMap: Record<string, string> = {};
  try {
    if (r.tags['segtune.key_map']) keyMap = JSON.parse(r.tags['segtune.key_map']) as Record<string, string>;
  } catch {
    // A hand-edited tag: start a fresh map.
  }
  return { runId: r.runId, experimentId: r.experimentId, artifactUri: r.artifactUri, params: new Map(Object.entries(r.params)), keyMap };
}

function pickParent(runs: MlflowRun[]): MlflowRun {
  return [...runs].sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0) || a.runId.localeCompare(b.runId))[0];
}

function describeEvent(ev: OutboxEvent): string {
  const p = ev.payload as { number?: number; study?: { name?: string } };
  const what = p.number !== undefined ? `${ev.kind} of trial ${p.number}` : ev.kind;
  return `${what}${p.study?.name ? ` (study ${p.study.name})` : ''}`;
}

function csvCell(v: unknown): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Runs `fn` over `items` with at most `limit` at once; rejects with the first error once all settled. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    // Not unref'd: a caller awaits this, and an unref'd timer would let the process exit
    // before the caller resumes when nothing else keeps the event loop alive.
    const t = setTimeout(resolve, ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}
