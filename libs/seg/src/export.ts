import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@segtune/core';

const WEIGHTS_FILE = 'weights.bin';

/**
 * A tfjs IO handler on the local file system, writing and reading the standard LayersModel
 * format (`model.json` with a weights manifest + `weights.bin`). tfjs-node's `file://` handler
 * is not available without the native package, so this one is ours.
 */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      mkdirSync(dir, { recursive: true });
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('binary model topologies are not supported');
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileSync(join(dir, WEIGHTS_FILE), Buffer.from(weightData));
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJSON));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = join(dir, 'model.json');
      if (!existsSync(file)) throw new UserError(`no model at ${dir} (model.json not found)`);
      const modelJSON = JSON.parse(readFileSync(file, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = readFileSync(join(dir, p));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** Writes a model as `dir/model.json` + `dir/weights.bin`, and `config` as `dir/config.json` beside it. */
export async function saveModel(model: tf.LayersModel, dir: string, config?: Record<string, unknown>): Promise<string[]> {
  await model.save(fileSystemHandler(dir));
  const files = [join(dir, 'model.json'), join(dir, WEIGHTS_FILE)];
  if (config) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    files.push(join(dir, 'config.json'));
  }
  return files;
}

/** Loads a model written by `saveModel` (or any tfjs LayersModel folder with one weights file group). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemHandler(dir));
}
