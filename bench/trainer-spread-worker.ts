// Child process of bench/trainer.ts: trains the configurations given as JSON in argv[2] (each
// { index, params, seed }) with the segmentation workload of a space file (argv[3]) at its full
// budget, printing one JSON line per configuration.
import { dirname } from 'node:path';
import { loadSpaceFile } from '@segtune/space';
import { segmentationWorkload } from '@segtune/seg';
import type { Params } from '@segtune/space';

const jobs = JSON.parse(process.argv[2]) as { index: number; params: Params; seed: number }[];
const loaded = loadSpaceFile(process.argv[3]);
const workload = segmentationWorkload(loaded.spec.workload, { spaceDir: dirname(process.argv[3]) });
for (const job of jobs) {
  const t0 = performance.now();
  let attrs: Record<string, unknown> = {};
  const curve: number[] = [];
  const result = await workload(job.params, {
    trialNumber: job.index,
    seed: job.seed,
    budget: loaded.spec.budget,
    signal: new AbortController().signal,
    device: { gpu: null },
    setAttrs: (a) => (attrs = { ...attrs, ...a }),
    report: async (_step, v) => {
      curve.push(typeof v === 'number' ? v : v.miou);
    },
  });
  console.log(JSON.stringify({ index: job.index, params: job.params, result, curve, backend: attrs.backend, seconds: (performance.now() - t0) / 1000 }));
}
