import type { OutboxEvent, Storage } from '@segtune/core';

/** How often a down sink is probed (its health check). */
const PROBE_MS = 1_000;
/** How long a health probe waits for its answer (a loaded machine's server can take seconds). */
const HEALTH_TIMEOUT_MS = 10_000;
/** How long a final flush waits when the sink does not answer at all. */
const UNREACHABLE_FLUSH_MS = 1_000;
/** Consecutive server errors on the same events before they are treated as rejected. */
const MAX_SERVER_ERRORS = 5;

/**
 * What a failed delivery means to the pump:
 * - `rejected`: the sink answered that it will not take these events (4xx): skip them.
 * - `server-error`: the sink answered with an error that may pass (5xx, 429): back off and resend;
 *   after MAX_SERVER_ERRORS in a row for the same events they count as rejected.
 * - `unreachable`: no answer at all: wait for the health probe, then resend.
 * - `transient`: an interrupted attempt (aborted): back off and resend.
 * - `broken`: an unexpected error in the sink's own code (a bug, a malformed event): skipped like a
 *   rejection, except while the pump is closing (then it is most likely the shutdown itself).
 */
export type DeliveryFailure = 'rejected' | 'server-error' | 'unreachable' | 'transient' | 'broken';

/** Where outbox events go. The pump knows nothing else about the destination. */
export interface Sink {
  /** For warning lines: `MLflow`. */
  readonly label: string;
  /** For warning lines: the server's address. */
  readonly address: string;
  /**
   * Delivers events (oldest first) and resolves once the destination holds them all. Must be
   * harmless to repeat: an event whose acknowledgement was lost is delivered again.
   */
  deliver(events: OutboxEvent[]): Promise<void>;
  /** True when the destination answers; never throws. */
  health(timeoutMs: number): Promise<boolean>;
  classify(error: unknown): DeliveryFailure;
  /** For the warning line about a rejected event. */
  describe?(event: OutboxEvent): string;
}

export interface OutboxPumpOptions {
  storage: Storage;
  sink: Sink;
  /** The outbox's sink name these events are stored under. */
  sinkName: string;
  warn: (line: string) => void;
  /** Most events read per cycle. Default 2000. */
  batchEvents?: number;
  /** Pause between cycles so that one cycle carries many events. Default 250 ms. */
  coalesceMs?: number;
  /** Back-off while the sink fails: from retryMinMs, doubling, up to retryMaxMs. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Called once each time the sink goes down. */
  onDown?: () => void;
}

export interface PumpStats {
  sentEvents: number;
  rejectedEvents: number;
  down: boolean;
}

/**
 * Moves events from a storage's durable outbox to a sink. `queue` only buffers the event (one
 * storage append per tick, never awaited by the caller); a background loop reads the outbox in
 * order, in batches, hands them to the sink, and acknowledges them only after the sink has them.
 * While the sink is unreachable the loop probes its health every second, says so once, and the
 * events wait in the storage, also across restarts. Events the sink rejects are skipped one by
 * one, each with a warning, so that one bad event does not hold back the rest.
 */
export class OutboxPump {
  private readonly storage: Storage;
  private readonly sink: Sink;
  private readonly sinkName: string;
  private readonly options: OutboxPumpOptions;
  private readonly warn: (line: string) => void;

  private buffer: { studyId: number; kind: string; payload: unknown; prepare?: () => Promise<void> }[] = [];
  private appendScheduled = false;
  private appendChain: Promise<void> = Promise.resolve();
  private appendFailing = false;

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
  private rejectedEvents = 0;

  constructor(options: OutboxPumpOptions) {
    this.options = options;
    this.storage = options.storage;
    this.sink = options.sink;
    this.sinkName = options.sinkName;
    this.warn = options.warn;
    this.backoffMs = options.retryMinMs ?? 500;
  }

  get isDown(): boolean {
    return this.down;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  stats(): PumpStats {
    return { sentEvents: this.sentEvents, rejectedEvents: this.rejectedEvents, down: this.down };
  }

  /** Starts the loop (also started by the first append): drains what an earlier process left. */
  start(): void {
    if (this.closed || this.loopPromise) return;
    this.loopPromise = this.loop();
  }

  /** Asks an idle loop to look at the outbox now. */
  poke(): void {
    this.wake?.();
  }

  /**
   * Buffers one event for the outbox. `prepare` runs just before the append (e.g. to fill in
   * counts); if it fails the event is stored as it is.
   */
  queue(studyId: number, kind: string, payload: unknown, prepare?: () => Promise<void>): void {
    if (this.closed) return;
    this.buffer.push({ studyId, kind, payload, prepare });
    if (!this.appendScheduled) {
      this.appendScheduled = true;
      setImmediate(() => this.drainBuffer());
    }
  }

  /**
   * Waits until every queued event is in the outbox and, within `timeoutMs`, delivered. What is
   * still undelivered then stays in the storage (one warning line says how much).
   */
  async flush(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    const { label, address } = this.sink;
    let deadline = Date.now() + timeoutMs;
    this.flushing++;
    try {
      this.drainBuffer();
      await withTimeout(this.appendChain, timeoutMs);
      this.start();
      // A server that does not answer gets a short wait; one that does gets all of timeoutMs.
      if (this.down && !(await this.sink.health(Math.min(HEALTH_TIMEOUT_MS, Math.max(1, deadline - Date.now()))))) deadline = Math.min(deadline, Date.now() + UNREACHABLE_FLUSH_MS);
      // Only a peek that starts after this point can tell that everything went out.
      const drained = new Promise<void>((resolve) => this.drainWaiters.push({ after: this.peeks + 1, resolve }));
      this.wake?.();
      this.wakeBackoff?.();
      await withTimeout(drained, Math.max(0, deadline - Date.now()));
      const left = await this.storage.outboxCount(this.sinkName).catch(() => 0);
      if (left > 0) this.warn(`${left} ${label} tracking event(s) not sent yet (${this.down ? `${label} unreachable at ${address}` : 'time ran out'}); they wait in ${this.storage.description} and are sent by the next segtune run on it`);
    } finally {
      this.flushing--;
    }
  }

  /** Stops the loop (without flushing: call flush first) once buffered events are stored. */
  async close(abort: () => void = () => undefined): Promise<void> {
    if (this.closed) return;
    this.drainBuffer();
    await this.appendChain.catch(() => undefined);
    this.closed = true;
    abort();
    this.wake?.();
    this.wakeBackoff?.();
    await this.loopPromise?.catch(() => undefined);
    for (const w of this.drainWaiters) w.resolve();
    this.drainWaiters = [];
  }

  /** Sleeps without keeping the process alive (the loop is background work). */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms));
      t.unref?.();
    });
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
            this.sinkName,
            items.slice(i, j).map((it) => ({ kind: it.kind, payload: it.payload })),
          );
          items.splice(i, j - i);
        }
        this.appendFailing = false;
      } catch (e) {
        // Keep what was not stored and try again with the next events.
        this.buffer.unshift(...items.map((it) => ({ ...it, prepare: undefined })));
        if (!this.appendFailing) this.warn(`could not queue ${this.sink.label} events in ${this.storage.description}: ${(e as Error).message}`);
        this.appendFailing = true;
        return;
      }
      this.dirty = true;
      this.start();
      if (!this.down) this.wake?.();
    });
  }

  private async loop(): Promise<void> {
    const batchEvents = this.options.batchEvents ?? 2000;
    while (!this.closed) {
      // While the sink is down, a cheap health probe decides whether to read the outbox at all.
      // It runs every PROBE_MS, not on the growing back-off, so that queued events go out within
      // a second of the sink's return; and it waits long enough for a server on a loaded machine.
      if (this.down && !(await this.sink.health(HEALTH_TIMEOUT_MS))) {
        if (this.closed) break;
        await this.sleepBackoff(PROBE_MS);
        continue;
      }
      let events: OutboxEvent[];
      const peek = ++this.peeks;
      this.dirty = false;
      try {
        events = await this.storage.outboxPeek(this.sinkName, batchEvents);
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
          this.warn(`${this.sink.label} is reachable again at ${this.sink.address}; sending the queued tracking events`);
        }
        this.backoffMs = this.options.retryMinMs ?? 500;
      } catch (e) {
        if (this.closed) break;
        const unreachable = this.sink.classify(e) === 'unreachable';
        const why = unreachable ? firstLine(e) : `${this.sink.label} at ${this.sink.address} is failing (${firstLine(e)})`;
        this.warnDown(`${why}; the search goes on and tracking events wait in ${this.storage.description} until it is back`);
        // Unreachable: the health probe above says when it is back. Answering with errors: back off.
        await this.sleepBackoff(unreachable ? PROBE_MS : undefined);
        continue;
      }
      if (events.length < batchEvents && !this.flushing && !this.closed) await this.sleep(this.options.coalesceMs ?? 250);
    }
  }

  private warnDown(line: string): void {
    if (this.down) return;
    this.down = true;
    this.warn(line);
    this.options.onDown?.();
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

  /**
   * Delivers a batch and acknowledges it. Unreachable sinks and server errors throw (the loop
   * backs off and the events are delivered again). A batch that the sink rejects is delivered
   * again one event at a time, so that only the events it refuses are skipped, with a warning.
   */
  private async deliver(events: OutboxEvent[]): Promise<void> {
    let rejected = false;
    try {
      await this.sink.deliver(events);
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
        await this.sink.deliver([ev]);
        this.sentEvents++;
      } catch (e) {
        if (!this.isRejection(e, ev.id)) throw e;
        this.rejectedEvents++;
        this.warn(`${this.sink.label} rejected ${this.sink.describe?.(ev) ?? ev.kind}; skipped: ${firstLine(e)}`);
      }
      await this.storage.outboxAck([ev.id]);
    }
    this.serverErrors = { firstId: -1, count: 0 };
  }

  private isRejection(e: unknown, firstId: number): boolean {
    switch (this.sink.classify(e)) {
      case 'rejected':
        return true;
      case 'broken':
        return !this.closed;
      case 'server-error':
        // A server that answers errors to the same events again and again will not take them.
        if (this.serverErrors.firstId === firstId) this.serverErrors.count++;
        else this.serverErrors = { firstId, count: 1 };
        return this.serverErrors.count >= MAX_SERVER_ERRORS;
      default:
        return false;
    }
  }
}

export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}

/** Resolves when `p` settles or after `ms`, whichever comes first; never rejects. */
export function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
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
