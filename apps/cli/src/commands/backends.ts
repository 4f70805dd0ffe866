// `segtune backends`: every tfjs backend, whether it is usable here and why not.
import { availableParallelism } from 'node:os';
import { textTable } from '../table';

export interface BackendsOptions {
  json?: boolean;
  workers?: number;
}

export async function runBackends(options: BackendsOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [{ describeBackends }, { detectGpus }] = await Promise.all([import('@segtune/seg'), import('@segtune/executor')]);
  const trialsAtOnce = options.workers ?? availableParallelism();
  const reports = await describeBackends({ trialsAtOnce });
  const gpus = detectGpus().map((g) => `GPU ${g.index}: ${g.name} (${g.memoryTotalMb} MB)`);
  const chosen = reports.find((r) => r.usable)?.name;
  if (options.json) {
    const devices = (name: string) => (name === 'tensorflow-gpu' ? gpus : ['CPU']);
    out.write(`${JSON.stringify({ automatic: chosen, trials_at_once: trialsAtOnce, backends: reports.map((r) => ({ ...r, devices: r.usable ? devices(r.name) : [] })) }, null, 2)}\n`);
    return 0;
  }
  const rows = reports.map((r) => [r.name, r.usable ? 'yes' : 'no', r.version ?? '', r.threads ?? '', r.name === 'tensorflow-gpu' ? gpus.join('; ') : r.usable ? 'CPU' : '', r.reason ?? r.source ?? '']);
  out.write(`${textTable(['backend', 'usable', 'version', 'threads', 'devices', 'note'], rows)}\n`);
  out.write(`automatic choice: ${chosen}; threads per trial with ${trialsAtOnce} trials at once (--workers)\n`);
  return 0;
}
