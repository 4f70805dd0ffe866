import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '@segtune/core';
import { OutboxPump, type DeliveryFailure, type Sink } from './outbox-pump';
import { MemoryOutbox } from './testing/memory-outbox';

class Failure extends Error {
  constructor(readonly kind: DeliveryFailure) {
    super(`${kind} failure`);
  }
}

/**
 * An in-memory sink. `script` answers each deliver call in turn (undefined = take the events);
 * `reject` refuses any delivery that holds an event with that payload; `healthy` is its /health.
 */
class MemorySink implements Sink {
  readonly label = 'Memory';
  readonly address = 'mem://test';
  received: number[] = [];
  calls = 0;
  healthChecks = 0;
  healthy = true;
  script: (DeliveryFailure | undefined)[] = [];
  reject = new Set<unknown>();

  async deliver(events: OutboxEvent[]): Promise<void> {
    this.calls++;
    const fault = this.script.shift();
    if (fault) throw new Failure(fault);
    if (events.some((e) => this.reject.has(e.payload))) throw new Failure('rejected');
    this.received.push(...events.map((e) => e.payload as number));
  }

  async health(): Promise<boolean> {
    this.healthChecks++;
    return this.healthy;
  }

  classify(e: unknown): DeliveryFailure {
    return e instanceof Failure ? e.kind : 'broken';
  }

  describe(ev: OutboxEvent): string {
    return `event ${String(ev.payload)}`;
  }
}

const pumps: OutboxPump[] = [];
afterEach(async () => {
  for (const p of pumps.splice(0)) await p.close();
});

function setup(options: { sink?: MemorySink; outbox?: MemoryOutbox; batchEvents?: number } = {}) {
  const outbox = options.outbox ?? new MemoryOutbox();
  const sink = options.sink ?? new MemorySink();
  const warnings: string[] = [];
  let downs = 0;
  const pump = new OutboxPump({
    storage: outbox.asStorage(),
    sink,
    sinkName: 'mem',
    warn: (l) => warnings.push(l),
    coalesceMs: 0,
    retryMinMs: 1,
    retryMaxMs: 4,
    batchEvents: options.batchEvents,
    onDown: () => downs++,
  });
  pumps.push(pump);
  return { outbox, sink, warnings, pump, downs: () => downs };
}

function queue(pump: OutboxPump, from: number, to: number): void {
  for (let i = from; i < to; i++) pump.queue(1, 'ev', i);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('OutboxPump', () => {
  it('delivers every queued event once, in order, and acknowledges it', async () => {
    const { outbox, sink, pump, warnings } = setup({ batchEvents: 7 });
    queue(pump, 0, 30);
    await pump.flush(10_000);
    expect(sink.received).toEqual(range(0, 30));
    expect(await outbox.outboxCount('mem')).toBe(0);
    expect(outbox.acked).toHaveLength(30);
    expect(pump.stats()).toEqual({ sentEvents: 30, rejectedEvents: 0, down: false });
    expect(warnings).toEqual([]);
  });

  it('stores nothing and sends nothing for another sink name', async () => {
    const outbox = new MemoryOutbox();
    await outbox.outboxAppend(1, 'other', [{ kind: 'ev', payload: 99 }]);
    const { sink, pump } = setup({ outbox });
    queue(pump, 0, 2);
    await pump.flush(10_000);
    expect(sink.received).toEqual([0, 1]);
    expect(await outbox.outboxCount('other')).toBe(1);
  });

  it('drains what an earlier process left in the outbox', async () => {
    const outbox = new MemoryOutbox();
    await outbox.outboxAppend(1, 'mem', [0, 1, 2].map((payload) => ({ kind: 'ev', payload })));
    const { sink, pump } = setup({ outbox });
    pump.start();
    await pump.flush(10_000);
    expect(sink.received).toEqual([0, 1, 2]);
  });

  it('skips only the event the sink rejects, with one warning line, and acknowledges it', async () => {
    const sink = new MemorySink();
    sink.reject.add(3);
    const { outbox, pump, warnings } = setup({ sink });
    queue(pump, 0, 6);
    await pump.flush(10_000);
    expect(sink.received).toEqual([0, 1, 2, 4, 5]);
    expect(await outbox.outboxCount('mem')).toBe(0);
    expect(warnings).toEqual(['Memory rejected event 3; skipped: rejected failure']);
    expect(pump.stats()).toMatchObject({ sentEvents: 5, rejectedEvents: 1 });
  });

  it('resends on server errors and loses nothing', async () => {
    const sink = new MemorySink();
    sink.script = ['server-error', 'server-error', 'transient'];
    const { outbox, pump, warnings, downs } = setup({ sink });
    queue(pump, 0, 5);
    await pump.flush(10_000);
    expect(sink.received).toEqual(range(0, 5));
    expect(await outbox.outboxCount('mem')).toBe(0);
    expect(pump.stats().rejectedEvents).toBe(0);
    // Down once (one line), back once.
    expect(downs()).toBe(1);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toBe('Memory at mem://test is failing (server-error failure); the search goes on and tracking events wait in memory until it is back');
    expect(warnings[1]).toBe('Memory is reachable again at mem://test; sending the queued tracking events');
  });

  it('gives up on events that meet five server errors in a row, one event at a time', async () => {
    const sink = new MemorySink();
    // Five failures of the batch [0, 1, 2] make the pump try one event at a time; event 0's next
    // failure is its sixth in a row: skipped.
    sink.script = Array(6).fill('server-error');
    const { pump, warnings } = setup({ sink });
    queue(pump, 0, 3);
    await pump.flush(10_000);
    expect(sink.received).toEqual([1, 2]);
    expect(pump.stats()).toMatchObject({ sentEvents: 2, rejectedEvents: 1 });
    expect(warnings.filter((w) => w.startsWith('Memory rejected'))).toEqual(['Memory rejected event 0; skipped: server-error failure']);
  });

  it('waits for the health probe while unreachable, warns once, and sends everything once back', async () => {
    const sink = new MemorySink();
    sink.script = ['unreachable'];
    sink.healthy = false;
    const { outbox, pump, warnings } = setup({ sink });
    queue(pump, 0, 4);
    // While down, flush gives up after a short wait and says what is left.
    await pump.flush(500);
    expect(pump.stats().down).toBe(true);
    expect(sink.received).toEqual([]);
    expect(await outbox.outboxCount('mem')).toBe(4);
    expect(warnings[0]).toBe('unreachable failure; the search goes on and tracking events wait in memory until it is back');
    expect(warnings[1]).toBe('4 Memory tracking event(s) not sent yet (Memory unreachable at mem://test); they wait in memory and are sent by the next segtune run on it');
    expect(sink.healthChecks).toBeGreaterThan(0);
    const callsWhileDown = sink.calls;
    expect(callsWhileDown).toBe(1); // no delivery tried while /health says no
    queue(pump, 4, 6);
    sink.healthy = true;
    await pump.flush(10_000);
    expect(sink.received).toEqual(range(0, 6));
    expect(warnings.filter((w) => w.includes('reachable again'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('unreachable failure'))).toHaveLength(1);
  });

  it('keeps events whose append failed and stores them with the next ones', async () => {
    const outbox = new MemoryOutbox();
    outbox.failAppends = 1;
    const { sink, pump, warnings } = setup({ outbox });
    queue(pump, 0, 3);
    await new Promise((r) => setImmediate(r));
    queue(pump, 3, 5);
    await pump.flush(10_000);
    expect(sink.received).toEqual(range(0, 5));
    expect(warnings).toEqual(['could not queue Memory events in memory: connection lost']);
  });

  it('goes on after the outbox could not be read', async () => {
    const outbox = new MemoryOutbox();
    outbox.failPeeks = 2;
    await outbox.outboxAppend(1, 'mem', [{ kind: 'ev', payload: 0 }]);
    const { sink, pump, warnings } = setup({ outbox });
    pump.start();
    await pump.flush(10_000);
    expect(sink.received).toEqual([0]);
    expect(warnings[0]).toBe('cannot read the tracking outbox in memory: connection lost');
  });

  it('treats an error in the sink itself as a rejection of that event', async () => {
    const sink = new MemorySink();
    const deliver = sink.deliver.bind(sink);
    sink.deliver = async (events) => {
      if (events.some((e) => e.payload === 1)) throw new TypeError('bug');
      return deliver(events);
    };
    const { pump, warnings } = setup({ sink });
    queue(pump, 0, 3);
    await pump.flush(10_000);
    expect(sink.received).toEqual([0, 2]);
    expect(warnings).toEqual(['Memory rejected event 1; skipped: bug']);
  });

  it('queues nothing after close, and a closed pump flushes at once', async () => {
    const { outbox, pump } = setup();
    await pump.close();
    queue(pump, 0, 2);
    await pump.flush(10_000);
    expect(await outbox.outboxCount('mem')).toBe(0);
  });
});
