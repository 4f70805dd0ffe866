import * as tf from '@tensorflow/tfjs';
import { median, mean, standardDeviation } from 'simple-statistics';
import { unetStats, type UNetConfig } from './unet';
import { predictProbabilities, type TtaMode } from './tta';

export interface LatencyOptions {
  /** Timed runs (at least 20). */
  runs?: number;
  warmup?: number;
  /** Time the prediction with this flip averaging (its extra passes and the averaging). */
  tta?: TtaMode;
}

export interface LatencyResult {
  /** Median milliseconds per image at batch 1. */
  medianMs: number;
  meanMs: number;
  samples: number[];
}

/**
 * Inference latency at batch size 1 on the active backend: warm-up runs first (kernel
 * compilation, allocation), then the median of `runs` timed runs, each waiting for the
 * result's data so asynchronous backends are measured to completion. With `tta`, each run is
 * the whole flip-averaged prediction.
 */
export async function measureLatency(model: tf.LayersModel, shape: [number, number, number], o: LatencyOptions = {}): Promise<LatencyResult> {
  const runs = Math.max(20, o.runs ?? 30);
  const warmup = Math.max(1, o.warmup ?? 5);
  const x = tf.randomUniform([1, ...shape], 0, 1, 'float32', 7) as tf.Tensor4D;
  const once = async () => {
    const y = !o.tta || o.tta === 'none' ? (model.predict(x) as tf.Tensor) : predictProbabilities(model, x, o.tta);
    await y.data();
    y.dispose();
  };
  try {
    for (let i = 0; i < warmup; i++) await once();
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await once();
      samples.push(performance.now() - t0);
    }
    return { medianMs: median(samples), meanMs: mean(samples), samples };
  } finally {
    x.dispose();
  }
}

/** Coefficient of variation (sd / mean) of repeated measurements. */
export function coefficientOfVariation(xs: number[]): number {
  return xs.length < 2 ? 0 : standardDeviation(xs) / mean(xs);
}

/** Bytes per float32 and the fixed cost of a tfjs runtime (backend, wasm heap headroom, dataset). */
const F32 = 4;
const RUNTIME_OVERHEAD = 64 * 2 ** 20;

/**
 * Estimated peak memory of training one configuration, in bytes: weights with their gradients
 * and two optimizer slots (4 copies), plus per-image activations kept for the backward pass
 * and their gradients (×2, plus the same again for temporaries inside a step) times the batch,
 * plus the input batch and a fixed runtime overhead. Deliberately generous: the executor packs
 * trials onto GPUs with it, where an overestimate costs throughput and an underestimate
 * costs an out-of-memory failure.
 */
export function estimateTrainingMemory(c: UNetConfig, batchSize: number): number {
  const s = unetStats(c);
  const weights = 4 * s.params * F32;
  const activations = 3 * s.activations * batchSize * F32;
  const input = batchSize * c.height * c.widthPx * (c.channels + c.numClasses) * F32;
  return Math.ceil(weights + activations + input + RUNTIME_OVERHEAD);
}
