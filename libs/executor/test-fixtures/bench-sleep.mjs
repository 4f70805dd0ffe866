// The utilisation benchmark's trial: sleeps 200 ms (or params.ms) and says how long it really slept.
export default async function sleep(params, ctx) {
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const t = setTimeout(resolve, params.ms ?? 200);
    ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
  });
  return { loss: params.x ?? 0, busy_ms: performance.now() - t0 };
}
