import { UserError } from '@segtune/core';
import type { Params } from '@segtune/space';
import { AUGMENT_OPS, policyFromParams, type AugmentPolicy } from './augment';
import { ACTIVATIONS, type Activation, type UNetConfig } from './unet';
import type { OptimizerConfig, OptimizerName } from './optimizer';
import type { ScheduleConfig, ScheduleName } from './lr-schedule';
import { checkLoss, type LossConfig, type LossName } from './losses';
import { CLASS_WEIGHTINGS, type ClassWeighting } from './class-weights';
import { TTA_MODES, type TtaMode } from './tta';

/** Trial params the segmentation workload reads, with the value used when a space leaves one out. */
export const PARAM_DEFAULTS = {
  width: 16,
  depth: 3,
  kernel_size: 3,
  activation: 'relu',
  batch_norm: true,
  dropout: 0,
  separable: false,
  lr: 1e-3,
  batch_size: 16,
  optimizer: 'adam',
  weight_decay: 0,
  momentum: 0.9,
  schedule: 'constant',
  step_size: 3,
  step_factor: 0.5,
  warmup_epochs: 0,
  augment: 'none',
  loss: 'ce',
  class_weights: 'none',
  focal_gamma: 2,
  tversky_alpha: 0.3,
  tversky_beta: 0.7,
  dice_weight: 1,
  tta: 'none',
} as const;

const OTHER_PARAMS = ['augment_magnitude', 'randaugment_n', 'randaugment_m', 'learning_rate', ...AUGMENT_OPS.flatMap((op) => [`aug_${op}`, `aug_${op}_mag`])];
export const KNOWN_PARAMS: readonly string[] = [...Object.keys(PARAM_DEFAULTS), ...OTHER_PARAMS];

export interface TrialSettings {
  model: Omit<UNetConfig, 'height' | 'widthPx' | 'channels' | 'numClasses'>;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  batchSize: number;
  augment: AugmentPolicy;
  /** The loss; its class weights are computed from the training split (`weighting`). */
  loss: Omit<LossConfig, 'classWeights' | 'ignoreIndex'> & { weighting: ClassWeighting };
  /** Flip averaging at evaluation. */
  tta: TtaMode;
}

function num(params: Params, key: keyof typeof PARAM_DEFAULTS, integer = false): number {
  const raw = params[key] ?? (key === 'lr' ? params.learning_rate : undefined) ?? PARAM_DEFAULTS[key];
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new UserError(`segmentation param "${key}" must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

function bool(params: Params, key: keyof typeof PARAM_DEFAULTS): boolean {
  const v = params[key] ?? PARAM_DEFAULTS[key];
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1) return true;
  if (v === 'false' || v === 0) return false;
  throw new UserError(`segmentation param "${key}" must be true or false, got ${JSON.stringify(v)}`);
}

function str(params: Params, key: keyof typeof PARAM_DEFAULTS): string {
  return String(params[key] ?? PARAM_DEFAULTS[key]);
}

/**
 * Turns a trial's params into model, optimizer, schedule and augmentation settings; params the
 * space does not declare take PARAM_DEFAULTS. Unknown params are a UserError (a typo such as
 * `learnig_rate` would otherwise be searched over with no effect).
 */
export function trialSettings(params: Params): TrialSettings {
  const unknown = Object.keys(params).filter((k) => !KNOWN_PARAMS.includes(k));
  if (unknown.length) {
    throw new UserError(`segmentation workload: unknown param${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; allowed: ${KNOWN_PARAMS.join(', ')}`);
  }
  const activation = str(params, 'activation');
  if (!(ACTIVATIONS as readonly string[]).includes(activation)) throw new UserError(`segmentation param "activation": "${activation}" is unknown; allowed: ${ACTIVATIONS.join(', ')}`);
  const batchSize = num(params, 'batch_size', true);
  if (batchSize < 1) throw new UserError(`segmentation param "batch_size" must be >= 1, got ${batchSize}`);
  const loss = {
    name: str(params, 'loss') as LossName,
    focalGamma: num(params, 'focal_gamma'),
    tverskyAlpha: num(params, 'tversky_alpha'),
    tverskyBeta: num(params, 'tversky_beta'),
    diceWeight: num(params, 'dice_weight'),
  };
  checkLoss(loss);
  const weighting = str(params, 'class_weights');
  if (!(CLASS_WEIGHTINGS as readonly string[]).includes(weighting)) throw new UserError(`segmentation param "class_weights": "${weighting}" is unknown; allowed: ${CLASS_WEIGHTINGS.join(', ')}`);
  const tta = str(params, 'tta');
  if (!(TTA_MODES as readonly string[]).includes(tta)) throw new UserError(`segmentation param "tta": "${tta}" is unknown; allowed: ${TTA_MODES.join(', ')}`);
  return {
    model: {
      width: num(params, 'width', true),
      depth: num(params, 'depth', true),
      kernelSize: num(params, 'kernel_size', true),
      activation: activation as Activation,
      batchNorm: bool(params, 'batch_norm'),
      dropout: num(params, 'dropout'),
      separable: bool(params, 'separable'),
    },
    optimizer: {
      name: str(params, 'optimizer') as OptimizerName,
      weightDecay: num(params, 'weight_decay'),
      momentum: num(params, 'momentum'),
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
    },
    schedule: {
      name: str(params, 'schedule') as ScheduleName,
      lr: num(params, 'lr'),
      stepSize: num(params, 'step_size'),
      stepFactor: num(params, 'step_factor'),
      warmupEpochs: num(params, 'warmup_epochs'),
      minFactor: 0.01,
    },
    batchSize,
    augment: policyFromParams(params),
    loss: { ...loss, weighting: weighting as ClassWeighting },
    tta: tta as TtaMode,
  };
}
