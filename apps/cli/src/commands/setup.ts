// `segtune setup tensorflow [--gpu] [--tf-version V] [--force]`: builds native TensorFlow for
// tfjs from PyPI's wheels into segtune's cache (see @segtune/seg's tensorflow-setup.ts).
import { UserError } from '@segtune/core';

export interface SetupCommandOptions {
  gpu?: boolean;
  tfVersion?: string;
  force?: boolean;
  json?: boolean;
  verbose?: boolean;
}

export async function runSetup(what: string, options: SetupCommandOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (what !== 'tensorflow') throw new UserError(`setup: unknown component "${what}" (allowed: tensorflow)`);
  const { setupTensorflow } = await import('@segtune/seg');
  const r = await setupTensorflow({ gpu: options.gpu, tfVersion: options.tfVersion, force: options.force, verbose: options.verbose, log: options.json ? undefined : (l) => err.write(`setup: ${l}\n`) });
  const { install, probe } = r;
  if (options.json) {
    out.write(`${JSON.stringify({ ...install, built: r.built, seconds: r.seconds, probe }, null, 2)}\n`);
    return 0;
  }
  const backend = install.variant === 'gpu' ? 'tensorflow-gpu' : 'tensorflow';
  out.write(
    `${r.built ? 'built' : 'already set up'}: TensorFlow ${probe.tfVersion} (${install.variant === 'gpu' ? 'CUDA 12 build' : 'CPU build'}) under tfjs-node ${probe.tfjsNodeVersion} in ${install.dir}` +
      ` (${r.seconds.toFixed(1)} s)\n` +
      (install.variant === 'gpu' && !probe.gpu
        ? `backend '${backend}' is built, but TensorFlow sees no GPU on this machine: searches here keep to the other backends (see segtune backends)\n`
        : `backend '${backend}' is ready; searches pick it automatically (or --backend ${backend})\n`),
  );
  return 0;
}
