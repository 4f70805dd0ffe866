import * as tf from '@tensorflow/tfjs';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  /**
   * The file in the same folder holding the weights, a name no other save used; absent in
   * checkpoints written before it existed, whose weights are in checkpoint.bin.
   */
  data?: string;
}

const META = 'checkpoint.json';
/** The weights' file of a checkpoint whose header names none. */
const LEGACY_DATA = 'checkpoint.bin';
const DATA_FILE = /^checkpoint(\.[0-9a-f]+)?\.bin(\.tmp)?$/; // a crashed save's temporary file too

// A checkpoint is a header (checkpoint.json) and a weights file it names. Each save writes its
// weights under a new name and then swaps the header in by a rename, so the header on disk
// always names weights written whole for it: a crash between the two leaves the previous pair,
// and a reader that runs beside a save (a population-based replacement reading a running
// trial's checkpoint) sees one pair or the other. With one weights name for every save, as
// before, the weights were renamed over first and the header second: between the two, and
// after a crash there, new weights went with the previous header's epoch and step.

/** The header in `dir` and its weights' path, or undefined when either is missing. */
function readPair(dir: string): { meta: CheckpointMeta; data: string } | undefined {
  const metaPath = join(dir, META);
  if (!existsSync(metaPath)) return undefined;
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CheckpointMeta;
  const data = join(dir, meta.data ?? LEGACY_DATA);
  return existsSync(data) ? { meta, data } : undefined;
}

/**
 * The header and weights in `dir`, read as one pair: when a save beside this read replaced the
 * pair (its weights' file gone by the time it is read), the read starts again on the new one.
 */
function readCheckpoint(dir: string): { meta: CheckpointMeta; buf: Buffer } | undefined {
  for (let attempt = 0; ; attempt++) {
    const pair = readPair(dir);
    if (!pair) return undefined;
    try {
      return { meta: pair.meta, buf: readFileSync(pair.data) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw e;
    }
  }
}

/** Writes the header last, by a rename, then removes the weights no header names any more. */
function commit(dir: string, meta: CheckpointMeta): void {
  writeFileSync(join(dir, `${META}.tmp`), JSON.stringify(meta));
  renameSync(join(dir, `${META}.tmp`), join(dir, META));
  for (const f of readdirSync(dir)) if (DATA_FILE.test(f) && f !== meta.data) rmSync(join(dir, f), { force: true });
}

const freshDataName = () => `checkpoint.${randomBytes(6).toString('hex')}.bin`;

/**
 * Saves the given variables (model weights, batch-norm statistics, optimizer slots) as one
 * float32 blob plus a JSON header that names it. Written to temporary names and renamed, the
 * header last, so a crash never leaves a half checkpoint, or one half of two, that looks whole.
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
  const data = freshDataName();
  writeFileSync(join(dir, `${data}.tmp`), Buffer.from(blob.buffer));
  renameSync(join(dir, `${data}.tmp`), join(dir, data));
  commit(dir, { ...meta, shapes: vars.map((v) => v.shape), data });
}

/** Copies the checkpoint in `from` to `to` (a kept snapshot), written as `saveCheckpoint` writes one. */
export function copyCheckpoint(from: string, to: string): void {
  const pair = readPair(from);
  if (!pair) throw new Error(`no checkpoint in ${from} to copy`);
  mkdirSync(to, { recursive: true });
  const data = freshDataName();
  copyFileSync(pair.data, join(to, `${data}.tmp`));
  renameSync(join(to, `${data}.tmp`), join(to, data));
  commit(to, { ...pair.meta, data });
}

/** Assigns the leading `vars` their values from a checkpoint's weights, in order. */
function assignFrom(buf: Buffer, vars: tf.Variable[]): void {
  const blob = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  let off = 0;
  for (const v of vars) {
    const n = v.size;
    tf.tidy(() => v.assign(tf.tensor(blob.subarray(off, off + n), v.shape, 'float32')));
    off += n;
  }
}

/**
 * Restores variables saved by `saveCheckpoint`; returns its header, or undefined when there is
 * none that fits. `anyKey`: a checkpoint of other hyperparameters is restored too when every
 * shape matches (population-based training continues a better trial's weights).
 */
export function loadCheckpoint(dir: string, vars: tf.Variable[], key: string, options: { anyKey?: boolean } = {}): CheckpointMeta | undefined {
  const read = readCheckpoint(dir);
  if (!read) return undefined;
  const { meta, buf } = read;
  if ((meta.key !== key && !options.anyKey) || meta.shapes.length !== vars.length) return undefined;
  if (meta.shapes.some((s, i) => s.join('x') !== vars[i].shape.join('x'))) return undefined;
  assignFrom(buf, vars);
  return meta;
}

/**
 * Restores the leading `vars` of a checkpoint (a model's weights, saved before the optimizer's
 * slots) whatever the key, checking every shape; returns the header. For exporting the weights
 * a trial trained.
 */
export function loadCheckpointPrefix(dir: string, vars: tf.Variable[]): CheckpointMeta {
  const read = readCheckpoint(dir);
  if (!read) throw new UserError(`no checkpoint in ${dir} (${META} or the weights it names missing)`);
  const { meta, buf } = read;
  if (meta.shapes.length < vars.length || vars.some((v, i) => v.shape.join('x') !== meta.shapes[i].join('x'))) {
    throw new UserError(`the checkpoint in ${dir} does not hold this model's weights (shapes differ)`);
  }
  assignFrom(buf, vars);
  return meta;
}
