// Child process of bench/segmentation.ts: runs the segmentation workload (the real trial path:
// dataset, loss, training, latency probe) for the jobs given as JSON in argv[2], each
// { key, params, workload, budget, seed }, printing one JSON line per job with its final
// metrics, its per-epoch curve and its wall time.
import { segmentationWorkload } from '@segtune/seg';
import type { Budget, Params } from '@segtune/space';

interface Job {
  key: string;
  params: Params;
  workload: Record<string, unknown>;
  budget: Budget;
  seed: number;
}

const jobs = JSON.parse(process.argv[2]) as Job[];
for (const job of jobs) {
  const t0 = performance.now();
  const curve: { step: number; seconds: number; miou: number }[] = [];
  const workload = segmentationWorkload({ kind: 'segmentation', ...job.workload } as never);
  const result = await workload(job.params, {
    trialNumber: 0,
    seed: job.seed,
    budget: job.budget,
    signal: new AbortController().signal,
    device: { gpu: null },
    setAttrs: () => undefined,
    report: async (step, v) => {
      curve.push({ step, seconds: (performance.now() - t0) / 1000, miou: typeof v === 'number' ? v : v.miou });
    },
  });
  console.log(JSON.stringify({ key: job.key, seed: job.seed, params: job.params, result, curve, seconds: (performance.now() - t0) / 1000 }));
}
