// A workload with injected faults, chosen by params.fault.
import { threadId } from 'node:worker_threads';

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

export default async function faults(params, ctx) {
  switch (params.fault) {
    case 'throw':
      throw new Error(`injected failure in trial ${ctx.trialNumber}`);
    case 'cuda-oom':
      throw new Error('CUDA_ERROR_OUT_OF_MEMORY: failed to allocate 2.00G (2147483648 bytes) from device');
    case 'hang':
      // Ignores ctx.signal: only terminating the thread ends it.
      await new Promise(() => {});
      break;
    case 'hang-polite':
      await sleep(1e9, ctx.signal);
      break;
    case 'spin': {
      // A synchronous endless loop: the event loop never runs again.
      let x = 0;
      for (;;) x += Math.sqrt(x + 1);
    }
    case 'exit':
      process.exit(3);
      break;
    case 'oom': {
      const hog = [];
      for (;;) hog.push(Array.from({ length: 50_000 }, (_, i) => ({ i })));
    }
    case 'stop':
      for (let step = 1; step <= 100; step++) await ctx.report(step, { loss: 1 / step });
      return { loss: 0 };
    case 'swallow-stop':
      try {
        for (let step = 1; step <= 100; step++) await ctx.report(step, { loss: 1 / step });
      } catch {
        // ignores Pruned and returns anyway
      }
      return { loss: -1 };
    case 'not-a-number':
      return { loss: 'low' };
    case 'sleep':
      await sleep(params.ms ?? 10, ctx.signal);
      return params.x ?? 0;
    default: {
      await ctx.report(0, { loss: params.x ?? 0 });
      ctx.setAttrs({ backend: 'test-backend' });
      return { loss: (params.x ?? 0) ** 2, pid: process.pid, thread: threadId, device_gpu: ctx.device.gpu ?? -1, seed: ctx.seed };
    }
  }
  return 0;
}
