import { UserError } from '@segtune/core';
import type { DatasetFingerprint } from './fingerprint';
import { estimateTrainingMemory } from './cost';
import { unetStats, type UNetConfig } from './unet';

export interface PlanInput {
  fingerprint: DatasetFingerprint;
  /** The dataset path as the space file should name it (relative to the space file's folder). */
  dataPath: string;
  /** Memory one trial may use, in bytes, and where that figure came from. */
  memoryPerTrialBytes: number;
  memorySource: string;
  /** Trials that run at once (GPUs, or cores without GPUs). */
  parallel: number;
  /** Wall-clock hours the search may take. */
  hours: number;
  /** Training speed on the device that will train (see measureTrainingSpeed). */
  flopsPerSecond: number;
  speedSource: string;
  name?: string;
}

export interface PlanChoice {
  choice: string;
  value: string;
  why: string;
}

export interface SearchPlan {
  yaml: string;
  choices: PlanChoice[];
  imageSize: number;
  depth: { low: number; high: number };
  widths: number[];
  batchSizes: number[];
  losses: string[];
  epochs: { min: number; max: number };
  trials: number;
  /** Estimated seconds of one full-budget training of the middle configuration. */
  fullTrainingSeconds: number;
}

const WIDTHS = [4, 8, 16, 24, 32, 48, 64];
const BATCHES = [2, 4, 8, 16, 32];
const MAX_EPOCHS = [3, 9, 27, 81, 243];
/** A full-budget training of the middle configuration may take at most this share of the time. */
const FULL_RUN_SHARE = 0.1;
/** Evaluation and data handling on top of the training steps. */
const EPOCH_OVERHEAD = 1.3;
const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)} %`;
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

/** x rounded down to a multiple of m, at least m (no up-sampling beyond the data). */
function floorTo(x: number, m: number): number {
  return Math.max(m, Math.floor(x / m) * m);
}

/**
 * Draws a search space from a dataset's fingerprint, the memory a trial may use and the time
 * given, in the spirit of nnU-Net's rules: the median image size as the resolution (halved
 * while training would not fit the time), the U-Net as deep as the resolution allows, widths
 * and batch sizes whose memory estimate fits, losses and class weights chosen by the class
 * imbalance found, a budget and a trial count sized to the hours, ASHA to stop the weak early.
 * Every choice comes with its reason.
 */
export function planSearchSpace(input: PlanInput): SearchPlan {
  const fp = input.fingerprint;
  const choices: PlanChoice[] = [];
  const why = (choice: string, value: string, reason: string) => choices.push({ choice, value, why: reason });
  const trainImages = Math.max(1, Math.round(fp.count * 0.8));
  const budgetSeconds = input.hours * 3600 * input.parallel;
  const cfg = (side: number, width: number, depth: number): UNetConfig => ({ width, depth, kernelSize: 3, activation: 'relu', batchNorm: true, dropout: 0, separable: false, height: side, widthPx: side, channels: 3, numClasses: fp.numClasses });
  const maxDepth = (side: number) => {
    // nnU-Net: pool while the feature map stays at least 4 px, at most 5 times; the side must divide by 2^depth.
    let d = Math.min(5, Math.floor(Math.log2(side / 4)));
    while (d > 1 && side % 2 ** d !== 0) d--;
    return Math.max(1, d);
  };
  const epochSeconds = (c: UNetConfig) => (EPOCH_OVERHEAD * trainImages * 3 * unetStats(c).flops) / input.flopsPerSecond;

  // Resolution: the median size, halved while a 9-epoch training of a mid-size model would take
  // more than a tenth of the time, or a width-8 model at batch 2 would not fit in memory.
  const median = Math.sqrt(fp.medianWidth * fp.medianHeight);
  let side = Math.min(1024, floorTo(median, 8));
  const reasons: string[] = [];
  while (side > 32) {
    const d = maxDepth(side);
    const slow = 9 * epochSeconds(cfg(side, 16, d)) > FULL_RUN_SHARE * budgetSeconds;
    const big = estimateTrainingMemory(cfg(side, 8, d), 2) > input.memoryPerTrialBytes;
    if (!slow && !big) break;
    reasons.push(slow ? `${side}px would train too slowly` : `${side}px would not fit in memory`);
    side = floorTo(side / 2, 8);
  }
  const sizeNote = fp.sizes.length > 1 ? `${fp.sizes.length} distinct sizes, median ${fp.medianWidth}×${fp.medianHeight}` : `all ${fp.sizes[0].width}×${fp.sizes[0].height}`;
  why('image_size', String(side), `images are ${sizeNote}; nnU-Net trains at the median size${reasons.length ? `, halved because ${reasons.join(', then ')}` : ''} (rounded down to a multiple of 8)`);

  const dHigh = maxDepth(side);
  const dLow = Math.max(1, dHigh - 2);
  why('depth', `${dLow}..${dHigh}`, `down-sampling stops when the feature map reaches 4 px (${side}px → ${side / 2 ** dHigh}px at depth ${dHigh}); shallower nets are searched for latency`);

  const fits = (width: number, depth: number, batch: number) => estimateTrainingMemory(cfg(side, width, depth), batch) <= input.memoryPerTrialBytes;
  // Nothing to search when even the smallest model of the space does not fit: say so rather than
  // write a space whose every trial would run out of memory.
  if (!fits(WIDTHS[0], dHigh, BATCHES[0])) {
    throw new UserError(
      `memory: the smallest model the plan would search (width ${WIDTHS[0]}, depth ${dHigh}, batch ${BATCHES[0]} at ${side}px) needs about ${mib(estimateTrainingMemory(cfg(side, WIDTHS[0], dHigh), BATCHES[0]))} to train, more than the ${mib(input.memoryPerTrialBytes)} a trial gets (${input.memorySource}); give more memory (--memory-mb) or run fewer trials at once (--workers)`,
    );
  }
  const quick = (width: number) => 9 * epochSeconds(cfg(side, width, dHigh)) <= FULL_RUN_SHARE * budgetSeconds;
  const fitting = WIDTHS.filter((w) => w === 4 || (fits(w, dHigh, 2) && quick(w)));
  const widths = fitting.slice(-4);
  const wHigh = widths[widths.length - 1];
  why('width', widths.join(', '), `the widest base widths (at most four) whose training fits ${mib(input.memoryPerTrialBytes)} per trial at depth ${dHigh}, batch 2 (width ${wHigh}: ${mib(estimateTrainingMemory(cfg(side, wHigh, dHigh), 2))}) and trains 9 epochs within a tenth of the time`);

  const wMid = widths[Math.floor(widths.length / 2)];
  const batchCap = Math.max(2, Math.floor(trainImages / 4));
  // Batch sizes checked at the widest, deepest model, so every combination of the space fits.
  let batchSizes = BATCHES.filter((b) => b <= batchCap && fits(wHigh, dHigh, b));
  if (batchSizes.length === 0) batchSizes = [2];
  batchSizes = batchSizes.slice(-3);
  why('batch_size', batchSizes.join(', '), `the largest batch sizes whose memory estimate at the widest, deepest model (width ${wHigh}, depth ${dHigh}) fits ${mib(input.memoryPerTrialBytes)} (batch ${batchSizes[batchSizes.length - 1]}: ${mib(estimateTrainingMemory(cfg(side, wHigh, dHigh), batchSizes[batchSizes.length - 1]))}), and at most a quarter of the ${trainImages} training images`);

  // Losses: the class imbalance decides. nnU-Net's default is cross-entropy + Dice.
  const present = fp.classFrequencies.map((f, c) => ({ f, c })).filter((x) => x.f > 0);
  const rarest = present.reduce((a, b) => (b.f < a.f ? b : a));
  const imbalanced = fp.foregroundFraction < 0.1 || fp.imbalanceRatio > 10;
  const severe = fp.foregroundFraction < 0.03 || fp.imbalanceRatio > 100;
  const losses = imbalanced ? ['ce_dice', 'dice', 'tversky', 'focal', 'ce'] : ['ce', 'ce_dice', 'dice'];
  why(
    'loss',
    losses.join(', '),
    imbalanced
      ? `foreground is ${pct(fp.foregroundFraction)} of the labelled pixels and the rarest class (${rarest.c}) ${pct(rarest.f)} (imbalance ${fp.imbalanceRatio.toFixed(0)}:1): overlap losses (Dice, Tversky) and focal loss do not let background dominate; plain cross-entropy stays as the baseline, and the first trials try the overlap losses (enqueue)`
      : `classes are balanced enough (foreground ${pct(fp.foregroundFraction)}, imbalance ${fp.imbalanceRatio.toFixed(1)}:1) for cross-entropy; Dice variants stay in reach`,
  );
  if (imbalanced) why('class_weights', 'none, median, inverse (for ce, focal, ce_dice)', 'median-frequency and inverse-frequency weights raise the rare classes in the pixel losses');
  if (fp.absentClasses.length) why('absent classes', fp.absentClasses.join(', '), 'no mask holds them: they get weight 0 and their IoU is left out of mIoU');

  const augment = fp.count < 200 ? ['light', 'medium', 'heavy'] : ['none', 'light', 'medium'];
  why('augment', augment.join(', '), fp.count < 200 ? `only ${fp.count} images: augmentation is needed against over-fitting` : `${fp.count} images: lighter augmentation suffices`);
  why('tta', 'none, hflip, hvflip', 'flip averaging at evaluation costs 2–4× the latency, which the latency objective measures');

  // Budget: the largest maximum epochs with which one full training takes at most a tenth of the time.
  const mid = cfg(side, wMid, dHigh);
  const epoch = epochSeconds(mid);
  let maxEpochs = MAX_EPOCHS[0];
  for (const r of MAX_EPOCHS) if (r * epoch <= FULL_RUN_SHARE * budgetSeconds) maxEpochs = r;
  const minEpochs = Math.max(1, maxEpochs / 27);
  const rungs = Math.round(Math.log(maxEpochs / minEpochs) / Math.log(3));
  // ASHA with reduction factor 3: a trial's expected cost is min·(1 + rungs·2/3) epochs.
  const perTrial = epoch * minEpochs * (1 + (rungs * 2) / 3);
  const trials = Math.max(10, Math.min(500, Math.floor(budgetSeconds / perTrial)));
  why('budget', `epochs ${minEpochs}..${maxEpochs}`, `one epoch of the middle model (width ${wMid}, depth ${dHigh}, ${side}px, ${trainImages} images) is estimated at ${epoch.toFixed(1)} s from ${input.speedSource}; ${maxEpochs} epochs take ${(maxEpochs * epoch / 60).toFixed(1)} min, at most a tenth of ${input.hours} h × ${input.parallel} in parallel`);
  why('scheduler', 'asha, reduction factor 3', `stops the weaker two thirds at each of ${rungs + 1} rungs (${Array.from({ length: rungs + 1 }, (_, k) => minEpochs * 3 ** k).join(', ')} epochs), and keeps ${input.parallel} worker${input.parallel > 1 ? 's' : ''} busy without synchronising`);
  why('trials', String(trials), `about ${(perTrial / 60).toFixed(1)} min per trial on average under ASHA: ${input.hours} h × ${input.parallel} in parallel fits ${trials}${trials === 500 ? ' (capped at 500)' : trials === 10 ? ' (at least 10)' : ''}; the timeout stops the search at ${input.hours} h either way`);
  why('memory', mib(input.memoryPerTrialBytes), input.memorySource);

  const lines: string[] = [
    '# yaml-language-server: $schema=./space.schema.json',
    `# Written by segtune plan from ${fp.count} images in ${fp.path}.`,
    `# Fingerprint: ${sizeNote}, ${fp.channels === 1 ? 'grey' : 'colour'}, ${fp.numClasses} classes, pixel shares ${fp.classFrequencies.map(pct).join(' / ')},`,
    `# foreground ${pct(fp.foregroundFraction)}, imbalance ${fp.imbalanceRatio.toFixed(1)}:1${fp.ignoreIndex !== undefined ? `, ${pct(fp.ignoredFraction)} unlabelled (${fp.ignoreIndex})` : ''}.`,
    `name: ${input.name ?? 'planned'}`,
    `description: Planned U-Net search for ${fp.path} (${input.hours} h, ${mib(input.memoryPerTrialBytes)} per trial)`,
    'objectives:',
    '  - { name: miou, direction: maximize }',
    '  - { name: latency_ms, direction: minimize }',
    'params:',
    `  # ${choices.find((c) => c.choice === 'width')!.why}`,
    `  width: { type: categorical, choices: [${widths.join(', ')}] }`,
    `  # ${choices.find((c) => c.choice === 'depth')!.why}`,
    dLow < dHigh ? `  depth: { type: int, low: ${dLow}, high: ${dHigh} }` : `  depth: { type: categorical, choices: [${dHigh}] }`,
    `  # ${choices.find((c) => c.choice === 'batch_size')!.why}`,
    `  batch_size: { type: categorical, choices: [${batchSizes.join(', ')}] }`,
    `  # Adam-family learning rates; budgets of ${maxEpochs} epochs or fewer favour the upper part of the range.`,
    '  lr: { type: float, low: 0.0001, high: 0.03, log: true }',
    '  optimizer: { type: categorical, choices: [adam, adamw] }',
    '  weight_decay: { type: float, low: 0.000001, high: 0.01, log: true, when: { optimizer: adamw } }',
    '  schedule: { type: categorical, choices: [cosine, warmup, constant] }',
    `  # ${choices.find((c) => c.choice === 'loss')!.why}`,
    `  loss: { type: categorical, choices: [${losses.join(', ')}] }`,
  ];
  if (imbalanced) {
    lines.push('  class_weights: { type: categorical, choices: [none, median, inverse], when: { loss: [ce, focal, ce_dice] } }');
    lines.push('  focal_gamma: { type: float, low: 1.0, high: 3.0, when: { loss: focal } }');
    lines.push(`  # Tversky: β > α weighs misses of the ${severe ? 'tiny ' : ''}foreground above false alarms.`);
    lines.push('  tversky_alpha: { type: float, low: 0.1, high: 0.5, when: { loss: tversky } }');
    lines.push('  tversky_beta: { type: float, low: 0.5, high: 0.9, when: { loss: tversky } }');
  }
  lines.push(
    `  # ${choices.find((c) => c.choice === 'augment')!.why}`,
    `  augment: { type: categorical, choices: [${augment.join(', ')}] }`,
    `  augment_magnitude: { type: float, low: 0.0, high: 1.0, when: { augment: [${augment.filter((a) => a !== 'none').join(', ')}] } }`,
    `  # ${choices.find((c) => c.choice === 'tta')!.why}`,
    '  tta: { type: categorical, choices: [none, hflip, hvflip] }',
    `# ${choices.find((c) => c.choice === 'budget')!.why}`,
    `budget: { name: epochs, min: ${minEpochs}, max: ${maxEpochs} }`,
    'sampler: { kind: tpe }',
    `# ${choices.find((c) => c.choice === 'scheduler')!.why}`,
    'scheduler: { kind: asha, reduction_factor: 3 }',
    `# ${choices.find((c) => c.choice === 'trials')!.why}`,
    `trials: ${trials}`,
    `timeout: ${Math.round(input.hours * 60)}m`,
    `workers: ${input.parallel}`,
    'seed: 0',
  );
  if (imbalanced) {
    // Short budgets want a higher learning rate and more steps per epoch (the smallest batch).
    const lr = maxEpochs <= 27 ? 0.003 : 0.001;
    const start = `width: ${wMid}, depth: ${dHigh}, batch_size: ${batchSizes[0]}, lr: ${lr}, optimizer: adam, schedule: cosine, augment: ${augment[1]}, augment_magnitude: 0.5, tta: none`;
    lines.push(
      '# First trials: the middle configuration with nnU-Net\'s cross-entropy + Dice, then Dice and Tversky.',
      'enqueue:',
      `  - { ${start}, loss: ce_dice, class_weights: none }`,
      `  - { ${start}, loss: dice }`,
      `  - { ${start}, loss: tversky, tversky_alpha: 0.3, tversky_beta: 0.7 }`,
    );
  }
  lines.push(
    'workload:',
    '  kind: segmentation',
    `  dataset: { kind: folder, path: ${JSON.stringify(input.dataPath)}, image_size: ${side}, num_classes: ${fp.numClasses}${fp.ignoreIndex !== undefined ? `, ignore_index: ${fp.ignoreIndex}` : ''} }`,
    '  backend: auto',
    '  latency_runs: 20',
    '',
  );
  return {
    yaml: lines.join('\n'),
    choices,
    imageSize: side,
    depth: { low: dLow, high: dHigh },
    widths,
    batchSizes,
    losses,
    epochs: { min: minEpochs, max: maxEpochs },
    trials,
    fullTrainingSeconds: maxEpochs * epoch,
  };
}
