import * as tf from '@tensorflow/tfjs';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@segtune/core';

export interface CheckpointMeta {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Identifies the configuration; a checkpoint of another configuration is ignored. */
  key: string;
  shapes: number[][];
}

const META = 'checkpoint.json';
const DATA = 'checkpoint.bin';

/**
 * Saves the given variables (model weights, batch-norm statistics, optimizer slots) as one
 * float32 blob plus a JSON header. Written to temporary names and renamed, so a crash never
 * leaves a half checkpoint that looks whole.
 */
export async function saveCheckpoint(dir: string, vars: tf.Variable[], meta: Omit<CheckpointMeta, 'shapes'>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const parts = await Promise.all(vars.map((v) => v.data() as Promise<Float32Array>));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const blob = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    blob.set(p, off);
    off += p.length;
  }
  writeFileSync(join(dir, `${DATA}.tmp`), Buffer.from(blob.buffer));
  writeFileSync(join(dir, `${META}.tmp`), JSON.stringify({ ...meta, shapes: vars.map((v) => v.shape) }));
  renameSync(join(dir, `${DATA}.tmp`), join(dir, DATA));
  renameSync(join(dir, `${META}.tmp`), join(dir, META));
}

/** Copies the checkpoint in `from` to `to` (a kept snapshot), by the same temporary names and renames. */
export function copyCheckpoint(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of [DATA, META]) copyFileSync(join(from, f), join(to, `${f}.tmp`));
  for (const f of [DATA, META]) renameSync(join(to, `${f}.tmp`), join(to, f));
}

/**
 * Restores variables saved by `saveCheckpoint`; returns its header, or undefined when there is
 * none that fits. `anyKey`: a checkpoint of other hyperparameters is restored too when every
 * shape matches (population-based training continues a better trial's weights).
 */
export function loadCheckpoint(dir: string, vars: tf.Variable[], key: string, options: { anyKey?: boolean } = {}): CheckpointMeta | undefined {
  if (!existsSync(join(dir, META)) || !existsSync(join(dir, DATA))) return undefined;
  const meta = JSON.parse(readFileSync(join(dir, META), 'utf8')) as CheckpointMeta;
  if ((meta.key !== key && !options.anyKey) || meta.shapes.length !== vars.length) return undefined;
  if (meta.shapes.some((s, i) => s.join('x') !== vars[i].shape.join('x'))) return undefined;
  const buf = readFileSync(join(dir, DATA));
  const blob = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  let off = 0;
  for (const v of vars) {
    const n = v.size;
    tf.tidy(() => v.assign(tf.tensor(blob.subarray(off, off + n), v.shape, 'float32')));
    off += n;
  }
  return meta;
}

/**
 * Restores the leading `vars` of a checkpoint (a model's weights, saved before the optimizer's
 * slots) whatever the key, checking every shape; returns the header. For exporting the weights
 * a trial trained.
 */
export function loadCheckpointPrefix(dir: string, vars: tf.Variable[]): CheckpointMeta {
  if (!existsSync(join(dir, META)) || !existsSync(join(dir, DATA))) throw new UserError(`no checkpoint in ${dir} (${META} or ${DATA} missing)`);
  const meta = JSON.parse(readFileSync(join(dir, META), 'utf8')) as CheckpointMeta;
  if (meta.shapes.length < vars.length || vars.some((v, i) => v.shape.join('x') !== meta.shapes[i].join('x'))) {
    throw new UserError(`the checkpoint in ${dir} does not hold this model's weights (shapes differ)`);
  }
  const buf = readFileSync(join(dir, DATA));
  const blob = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  let off = 0;
  for (const v of vars) {
    const n = v.size;
    tf.tidy(() => v.assign(tf.tensor(blob.subarray(off, off + n), v.shape, 'float32')));
    off += n;
  }
  return meta;
}
