import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from './backend';
import { copyCheckpoint, loadCheckpoint, loadCheckpointPrefix, saveCheckpoint, type CheckpointMeta } from './checkpoint';

const root = mkdtempSync(join(tmpdir(), 'segtune-ckpt-'));
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const vars = () => [tf.variable(tf.zeros([2, 3])), tf.variable(tf.zeros([4]))];
const values = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));
const fill = (vs: tf.Variable[], x: number) => vs.forEach((v) => v.assign(tf.fill(v.shape, x)));
const header = (dir: string) => JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta;
const weightFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.bin') || f.endsWith('.tmp'));

describe('checkpoints', () => {
  it('keeps one header and the weights it names, the last save winning', async () => {
    const dir = join(root, 'a');
    const vs = vars();
    fill(vs, 1);
    await saveCheckpoint(dir, vs, { epoch: 1, step: 10, key: 'k' });
    fill(vs, 2);
    await saveCheckpoint(dir, vs, { epoch: 2, step: 20, key: 'k' });
    expect(weightFiles(dir)).toEqual([header(dir).data]);
    const back = vars();
    expect(loadCheckpoint(dir, back, 'k')?.epoch).toBe(2);
    expect(values(back)).toEqual(values(vs));
  });

  it('never pairs new weights with an older header: a save cut off before its header is swapped in leaves the previous pair', async () => {
    const dir = join(root, 'b');
    const vs = vars();
    fill(vs, 1);
    await saveCheckpoint(dir, vs, { epoch: 1, step: 10, key: 'k' });
    // A second save that crashed after writing its weights (under their own name), and one that
    // crashed while writing them: the header on disk still names epoch 1's weights.
    const scratch = join(root, 'b-next');
    fill(vs, 2);
    await saveCheckpoint(scratch, vs, { epoch: 2, step: 20, key: 'k' });
    copyFileSync(join(scratch, header(scratch).data!), join(dir, header(scratch).data!));
    writeFileSync(join(dir, 'checkpoint.0123456789ab.bin.tmp'), 'partial');
    const back = vars();
    expect(loadCheckpoint(dir, back, 'k')?.epoch).toBe(1);
    expect(values(back)[0]).toEqual([1, 1, 1, 1, 1, 1]);
    // The next whole save clears what the crashed ones left.
    await saveCheckpoint(dir, vs, { epoch: 2, step: 20, key: 'k' });
    expect(weightFiles(dir)).toEqual([header(dir).data]);
  });

  it('reads checkpoints written before headers named their weights (checkpoint.bin)', async () => {
    const dir = join(root, 'c');
    const vs = vars();
    fill(vs, 3);
    await saveCheckpoint(dir, vs, { epoch: 4, step: 40, key: 'k' });
    const { data, ...old } = header(dir);
    renameSync(join(dir, data!), join(dir, 'checkpoint.bin'));
    writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify(old));
    const back = vars();
    expect(loadCheckpoint(dir, back, 'k')?.epoch).toBe(4);
    expect(values(back)).toEqual(values(vs));
    expect(loadCheckpointPrefix(dir, [vars()[0]]).epoch).toBe(4);
    // Copied as a kept snapshot: written the new way, the same weights.
    copyCheckpoint(dir, join(dir, 'step-4'));
    expect(header(join(dir, 'step-4')).data).toMatch(/^checkpoint\.[0-9a-f]+\.bin$/);
    const snap = vars();
    expect(loadCheckpoint(join(dir, 'step-4'), snap, 'k')?.epoch).toBe(4);
    expect(values(snap)).toEqual(values(vs));
  });

  it('has no checkpoint where the header or its weights are missing', async () => {
    const dir = join(root, 'd');
    mkdirSync(dir, { recursive: true });
    expect(loadCheckpoint(dir, vars(), 'k')).toBeUndefined();
    await saveCheckpoint(dir, vars(), { epoch: 1, step: 1, key: 'k' });
    rmSync(join(dir, header(dir).data!));
    expect(loadCheckpoint(dir, vars(), 'k')).toBeUndefined();
    expect(() => loadCheckpointPrefix(dir, vars())).toThrow(/checkpoint\.json or the weights it names missing/);
  });
});
