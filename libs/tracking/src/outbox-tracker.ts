import type { OutboxEvent, Storage, StudyEvent, Tracker } from '@segtune/core';
import { buildBatches } from './mlflow-batches';
import { isMlflowError, MlflowClient, type MlflowClientOptions } from './mlflow-client';
import { eventPayload, studyKey, studyRef, type StudyFinishedPayload } from './mlflow-payloads';
import { inParallel, MlflowRuns } from './mlflow-runs';
import { firstLine, OutboxPump, withTimeout, type DeliveryFailure, type Sink } from './outbox-pump';

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
   * MlflowRuns). Default 2000 ms; delays only the flusher, once per study.
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

/** Where a tracker stands, for status lines and benchmarks. */
export interface MlflowTrackerStatus {
  uri: string;
  sink: string;
  /** MLflow did not answer (or answered with errors) the last time; events wait in the outbox. */
  down: boolean;
  /** HTTP requests sent (every attempt counts). */
  requests: number;
  sentEvents: number;
  rejectedEvents: number;
  /** The current study's parent run, once known. */
  runUrl?: string;
  experimentUrl?: string;
}

/**
 * Sends study events to MLflow through a durable outbox. `handle` only queues the event (one
 * storage append per tick, never awaited by the study); the pump (OutboxPump) sends the outbox in
 * order, in batches, and acknowledges events only after MLflow has them. Replays are harmless:
 * runs are found by tag before they are created (MlflowRuns), params already on a run are not
 * sent again, metrics carry the timestamp of the original event (MLflow drops an identical
 * metric), tags and artifacts overwrite (buildBatches). While MLflow is unreachable the pump backs
 * off and says so once; events wait in the storage, also across restarts.
 */
export class MlflowTracker implements Tracker {
  readonly name = 'mlflow';
  readonly uri: string;
  readonly client: MlflowClient;
  readonly sink: string;
  private readonly storage: Storage;
  private readonly abort = new AbortController();
  private readonly warn: (line: string) => void;
  private readonly concurrency: number;
  private readonly runs: MlflowRuns;
  private readonly pump: OutboxPump;
  private readonly badEvents = new Set<string>();
  private lastStudyKey: string | undefined;
  private studyWaiters: { key: string; resolve: () => void }[] = [];

  constructor(options: MlflowTrackerOptions) {
    this.uri = options.uri.replace(/\/+$/, '');
    this.storage = options.storage;
    this.sink = options.sink ?? MLFLOW_SINK;
    this.warn = options.onWarning ?? ((line) => process.emitWarning(line, 'MlflowTracker'));
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.client = new MlflowClient({ retries: 2, baseDelayMs: 200, maxDelayMs: 2000, timeoutMs: 15_000, ...options.client, uri: this.uri, signal: this.abort.signal });
    this.pump = new OutboxPump({
      storage: this.storage,
      sink: this.mlflowSink(),
      sinkName: this.sink,
      warn: this.warn,
      batchEvents: options.batchEvents,
      coalesceMs: options.coalesceMs,
      retryMinMs: options.retryMinMs,
      retryMaxMs: options.retryMaxMs,
      // Whoever waits for the run's address stops waiting: there is none while MLflow is down.
      onDown: () => this.releaseStudyWaiters(() => true),
    });
    this.runs = new MlflowRuns(this.client, {
      experimentName: options.experimentName,
      parentSettleMs: options.parentSettleMs,
      concurrency: this.concurrency,
      storage: this.storage.description,
      sleep: (ms) => this.pump.sleep(ms),
      onStudy: (key) => this.releaseStudyWaiters((k) => k === key),
    });
  }

  /** Starts the background flusher (also started by the first event): drains what an earlier run left. */
  start(): void {
    this.pump.start();
  }

  handle(event: StudyEvent): void {
    if (this.pump.isClosed) return;
    try {
      this.record(event);
    } catch (e) {
      // Tracking never fails a search; a malformed event is reported once per kind.
      if (!this.badEvents.has(event?.kind)) this.warn(`MLflow tracking ignored a malformed ${String(event?.kind)} event: ${firstLine(e)}`);
      this.badEvents.add(event?.kind);
    }
  }

  private record(event: StudyEvent): void {
    const key = studyKey(studyRef(event.study));
    this.lastStudyKey ??= key;
    const row = eventPayload(event, this.storage.description);
    if (event.kind === 'study-started') this.lastStudyKey = key;
    let prepare: (() => Promise<void>) | undefined;
    if (event.kind === 'study-finished') {
      const payload = row.payload as StudyFinishedPayload;
      prepare = async () => {
        const counts: Record<string, number> = {};
        for (const s of ['complete', 'pruned', 'failed'] as const) counts[s] = await this.storage.countTrials(row.studyId, [s]);
        counts.total = await this.storage.countTrials(row.studyId);
        payload.counts = counts;
      };
    }
    this.pump.queue(row.studyId, row.kind, row.payload, prepare);
  }

  /**
   * Waits until every handled event is in the outbox and, within `timeoutMs`, sent to MLflow.
   * What is still unsent then stays in the storage (one warning line says how much) and goes
   * out with the next tracker on that storage.
   */
  async flush(timeoutMs = 10_000): Promise<void> {
    await this.pump.flush(timeoutMs);
  }

  /** Stops the flusher (without flushing: call flush first). The storage stays open. */
  async close(): Promise<void> {
    if (this.pump.isClosed) return;
    await this.pump.close(() => this.abort.abort());
    this.releaseStudyWaiters(() => true);
  }

  /**
   * The MLflow address of the current study's parent run,
   * `<uri>/#/experiments/<id>/runs/<run_id>`, once the flusher has found or created it; undefined
   * when MLflow did not answer within `timeoutMs` or no study started yet.
   */
  async runUrl(timeoutMs = 5000): Promise<string | undefined> {
    const key = this.lastStudyKey;
    if (!key) return undefined;
    if (!this.runs.get(key) && !this.pump.isDown) {
      this.start();
      this.pump.poke();
      await withTimeout(new Promise<void>((resolve) => this.studyWaiters.push({ key, resolve })), timeoutMs);
    }
    return this.knownRunUrl();
  }

  /** The experiment's address, once known. */
  experimentUrl(): string | undefined {
    const st = this.lastStudyKey ? this.runs.get(this.lastStudyKey) : undefined;
    return st ? `${this.uri}/#/experiments/${st.experimentId}` : undefined;
  }

  /** Where the tracker stands now (never waits). */
  status(): MlflowTrackerStatus {
    return { uri: this.uri, sink: this.sink, requests: this.client.requests, ...this.pump.stats(), runUrl: this.knownRunUrl(), experimentUrl: this.experimentUrl() };
  }

  /** Counters for benchmarks and status lines. */
  stats(): { requests: number; sentEvents: number; rejectedEvents: number; down: boolean } {
    return { requests: this.client.requests, ...this.pump.stats() };
  }

  private knownRunUrl(): string | undefined {
    const st = this.lastStudyKey ? this.runs.get(this.lastStudyKey) : undefined;
    return st ? `${this.uri}/#/experiments/${st.experimentId}/runs/${st.parent.runId}` : undefined;
  }

  private releaseStudyWaiters(which: (key: string) => boolean): void {
    this.studyWaiters = this.studyWaiters.filter((w) => (which(w.key) ? (w.resolve(), false) : true));
  }

  private mlflowSink(): Sink {
    return {
      label: 'MLflow',
      address: this.uri,
      deliver: (events) => this.send(events),
      health: (ms) => this.client.health(ms),
      classify: classifyMlflowError,
      describe: describeEvent,
    };
  }

  /** Finds or creates the events' runs, then sends each run's batch (runs side by side). */
  private async send(events: OutboxEvent[]): Promise<void> {
    await this.runs.prepare(events);
    const batches = buildBatches(events, this.runs);
    // Runs are independent: their batches go out side by side (each run's calls stay in order).
    await inParallel(batches, this.concurrency, async (b) => {
      const run = b.run;
      if (b.params.length || b.metrics.length || b.tags.length) await this.client.logBatch(run.runId, { params: b.params, metrics: b.metrics, tags: b.tags });
      for (const p of b.params) if (!run.params.has(p.key)) run.params.set(p.key, p.value);
      if (b.keyMap) run.keyMap = b.keyMap;
      for (const a of b.artifacts) await this.client.uploadArtifact(run.artifactUri, a.path, a.body, a.type);
      if (b.update) await this.client.updateRun(run.runId, b.update);
    });
  }
}

/** Creates an MLflow tracker and starts its flusher, so that what an earlier run left is sent. */
export function createMlflowTracker(options: MlflowTrackerOptions): MlflowTracker {
  const t = new MlflowTracker(options);
  t.start();
  return t;
}

/** How the pump treats a failed MLflow call (see DeliveryFailure). */
export function classifyMlflowError(e: unknown): DeliveryFailure {
  if (!isMlflowError(e)) return e instanceof Error && e.name === 'AbortError' ? 'transient' : 'broken';
  if (!e.retryable) return 'rejected';
  return e.status !== undefined ? 'server-error' : 'unreachable';
}

function describeEvent(ev: OutboxEvent): string {
  const p = ev.payload as { number?: number; study?: { name?: string } };
  const what = p.number !== undefined ? `${ev.kind} of trial ${p.number}` : ev.kind;
  return `${what}${p.study?.name ? ` (study ${p.study.name})` : ''}`;
}
