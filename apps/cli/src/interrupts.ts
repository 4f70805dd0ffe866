// Ctrl-C semantics shared by `search` and `worker`. First SIGINT/SIGTERM: no new trials,
// running ones finish (`stop`). Second: running ones are stopped and marked failed (`abort`).
// Either way the command exits 130.
export interface Interrupts {
  stop: AbortSignal;
  abort: AbortSignal;
  /** Signals received so far. */
  readonly count: number;
  /** Stops listening for signals. */
  dispose(): void;
}

export function handleInterrupts(message: (line: string) => void, options: { listen?: boolean } = {}): Interrupts {
  const stop = new AbortController();
  const abort = new AbortController();
  let count = 0;
  const onSignal = () => {
    count++;
    if (count === 1) {
      stop.abort();
      message('interrupted: starting no new trials; waiting for running ones (Ctrl-C again to stop them)');
    } else {
      abort.abort();
      message('interrupted again: stopping running trials');
    }
  };
  const listen = options.listen ?? true;
  if (listen) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return {
    stop: stop.signal,
    abort: abort.signal,
    get count() {
      return count;
    },
    dispose() {
      if (!listen) return;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
