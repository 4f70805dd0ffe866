import { cpus, totalmem } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { UserError } from '@segtune/core';
import { nameProblem } from '@segtune/space';
import { makeFolderFor, writeOutput } from '../write-output';

export interface PlanOptions {
  data: string;
  out: string;
  memoryMb?: number;
  hours?: number;
  numClasses?: number;
  ignoreIndex?: number;
  workers?: number;
  backend?: string;
  name?: string;
  json?: boolean;
}

/** Share of a GPU's free memory, or of the host's memory, that trials may use. */
const GPU_SHARE = 0.9;
const HOST_SHARE = 0.75;

/**
 * `segtune plan`: reads a folder dataset, computes its fingerprint, takes the memory of the
 * GPU (nvidia-smi) or of the host, times a few training steps, and writes a commented search
 * space drawn from all of it, printing why for each choice.
 */
export async function runPlan(options: PlanOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const t0 = performance.now();
  const hours = options.hours ?? 1;
  if (options.name !== undefined) {
    const problem = nameProblem(options.name);
    if (problem) throw new UserError(`--name: ${problem}`);
  }
  const outFile = resolve(options.out);
  if (!(hours > 0 && hours <= 24 * 30)) throw new UserError(`--hours must be a number of hours in (0, 720], got ${options.hours}`);
  if (options.numClasses !== undefined && options.numClasses < 2) throw new UserError(`--num-classes must be at least 2, got ${options.numClasses}`);
  if (options.ignoreIndex !== undefined && !(options.ignoreIndex >= 0 && options.ignoreIndex <= 255)) throw new UserError(`--ignore-index must be a mask value in 0..255, got ${options.ignoreIndex}`);
  const seg = await import('@segtune/seg');
  const data = resolve(options.data);
  const fingerprint = seg.datasetFingerprint({ path: data, numClasses: options.numClasses, ignoreIndex: options.ignoreIndex });
  const fingerprintSeconds = (performance.now() - t0) / 1000;

  const { detectGpus } = await import('@segtune/executor');
  const gpus = detectGpus();
  let parallel: number;
  let memoryPerTrialBytes: number;
  let memorySource: string;
  if (gpus.length) {
    parallel = options.workers ?? gpus.length;
    const free = Math.min(...gpus.map((g) => g.memoryTotalMb - g.memoryUsedMb));
    const mb = options.memoryMb ?? free;
    memoryPerTrialBytes = mb * GPU_SHARE * 2 ** 20;
    memorySource = `${options.memoryMb ? `--memory-mb ${mb}` : `nvidia-smi: ${gpus.length} GPU${gpus.length > 1 ? 's' : ''} (${gpus[0].name}), ${free} MiB free on the fullest`}; one trial per GPU, ${GPU_SHARE * 100} % of it`;
  } else {
    parallel = options.workers ?? cpus().length;
    const mb = options.memoryMb ?? Math.round(totalmem() / 2 ** 20);
    memoryPerTrialBytes = (mb * HOST_SHARE * 2 ** 20) / parallel;
    memorySource = `${options.memoryMb ? `--memory-mb ${mb}` : `no GPU (nvidia-smi absent or failed): host memory ${mb} MiB`}; ${HOST_SHARE * 100} % of it shared by ${parallel} trials at once (one per core)`;
  }

  const backend = await seg.initBackend(options.backend);
  const ref = { width: 16, depth: 2, kernelSize: 3, activation: 'relu' as const, batchNorm: true, dropout: 0, separable: false, height: 32, widthPx: 32, channels: 3, numClasses: fingerprint.numClasses };
  const speed = await seg.measureTrainingSpeed(ref, 4);
  let dataPath = relative(dirname(outFile), data) || '.';
  if (!dataPath.startsWith('.') && !dataPath.startsWith('/')) dataPath = `./${dataPath}`;
  const plan = seg.planSearchSpace({
    fingerprint,
    dataPath,
    memoryPerTrialBytes,
    memorySource,
    parallel,
    hours,
    flopsPerSecond: speed.flopsPerSecond,
    speedSource: `${(speed.flopsPerSecond / 1e9).toFixed(2)} GFLOP/s measured on ${backend.name} (width 16, depth 2, 32px, batch 4: ${(1000 * speed.secondsPerImage).toFixed(1)} ms per image)`,
    name: options.name,
  });
  makeFolderFor('--out', outFile);
  writeOutput('--out', outFile, plan.yaml);
  const seconds = (performance.now() - t0) / 1000;
  if (options.json) {
    out.write(`${JSON.stringify({ out: outFile, seconds, fingerprint_seconds: fingerprintSeconds, backend: backend.name, fingerprint, choices: plan.choices, trials: plan.trials, epochs: plan.epochs, image_size: plan.imageSize }, null, 2)}\n`);
    return 0;
  }
  const f = fingerprint;
  const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)} %`;
  out.write(`dataset ${data}: ${f.count} images, ${f.sizes.map((s) => `${s.width}×${s.height} (${s.count})`).slice(0, 4).join(', ')}${f.sizes.length > 4 ? ', …' : ''}, ${f.channels === 1 ? 'grey' : 'colour'}\n`);
  out.write(`classes: ${f.numClasses}; pixel shares ${f.classFrequencies.map(pct).join(' / ')}; in ${f.classPresence.map(pct).join(' / ')} of the images\n`);
  out.write(`foreground ${pct(f.foregroundFraction)}, imbalance ${f.imbalanceRatio.toFixed(1)}:1${f.ignoreIndex !== undefined ? `, unlabelled ${pct(f.ignoredFraction)}` : ''}\n\n`);
  const w = Math.max(...plan.choices.map((c) => c.choice.length));
  for (const c of plan.choices) out.write(`${c.choice.padEnd(w)}  ${c.value}\n${' '.repeat(w + 2)}why: ${c.why}\n`);
  out.write(`\nwrote ${outFile} in ${seconds.toFixed(1)} s; run it with: segtune search ${relative(process.cwd(), outFile) || outFile}\n`);
  return 0;
}
