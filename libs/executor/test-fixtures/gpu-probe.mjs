// Records which GPU process a trial ran in and when (wall clock, comparable across threads
// and processes), for the GPU binding test.

export default async function gpuProbe(params, ctx) {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, params.ms ?? 50));
  await ctx.report(1, { loss: 1 });
  const end = Date.now();
  return {
    loss: params.x ?? 0,
    start,
    end,
    cvd: Number(process.env.CUDA_VISIBLE_DEVICES ?? -1),
    pid: process.pid,
    device_gpu: ctx.device.gpu ?? -1,
  };
}
