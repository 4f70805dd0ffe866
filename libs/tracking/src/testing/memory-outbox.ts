import type { OutboxEvent, Storage } from '@segtune/core';

/**
 * The outbox part of a Storage, in memory, for this package's unit tests (the real memory
 * storage lives in @segtune/storage, which tracking may not depend on). `failAppends` /
 * `failPeeks` make the next calls throw, as a storage that lost its connection would.
 */
export class MemoryOutbox {
  readonly description = 'memory';
  rows: OutboxEvent[] = [];
  acked: number[] = [];
  failAppends = 0;
  failPeeks = 0;
  trialCounts: Record<string, number> = {};
  private nextId = 1;

  async outboxAppend(studyId: number, sink: string, events: { kind: string; payload: unknown }[]): Promise<void> {
    if (this.failAppends > 0) {
      this.failAppends--;
      throw new Error('connection lost');
    }
    // A stored copy, as a database would hold: later changes to the payload object do not reach it.
    for (const e of events) this.rows.push({ id: this.nextId++, studyId, sink, kind: e.kind, payload: JSON.parse(JSON.stringify(e.payload)), createdAt: Date.now(), attempts: 0 });
  }

  async outboxPeek(sink: string, limit: number): Promise<OutboxEvent[]> {
    if (this.failPeeks > 0) {
      this.failPeeks--;
      throw new Error('connection lost');
    }
    return this.rows.filter((r) => r.sink === sink).slice(0, limit);
  }

  async outboxAck(ids: readonly number[]): Promise<void> {
    this.acked.push(...ids);
    const gone = new Set(ids);
    this.rows = this.rows.filter((r) => !gone.has(r.id));
  }

  async outboxCount(sink: string): Promise<number> {
    return this.rows.filter((r) => r.sink === sink).length;
  }

  async countTrials(_studyId: number, states?: string[]): Promise<number> {
    if (!states) return Object.values(this.trialCounts).reduce((a, b) => a + b, 0);
    return states.reduce((a, s) => a + (this.trialCounts[s] ?? 0), 0);
  }

  /** Typed as the Storage the tracker and pump take (they use only the methods above). */
  asStorage(): Storage {
    return this as unknown as Storage;
  }
}
