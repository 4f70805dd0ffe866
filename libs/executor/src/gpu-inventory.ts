import { execFileSync } from 'node:child_process';
import { UserError } from '@segtune/core';

export interface GpuInfo {
  index: number;
  name: string;
  memoryTotalMb: number;
  memoryUsedMb: number;
}

/** Free memory of a card when the inventory was taken, in bytes. */
export function freeBytes(gpu: GpuInfo): number {
  return Math.max(0, gpu.memoryTotalMb - gpu.memoryUsedMb) * 2 ** 20;
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,name,memory.total,memory.used', '--format=csv,noheader,nounits'];

/** Parses `nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv,noheader[,nounits]`. */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < 4) continue;
    // The name may itself contain commas: index first, the two memory figures last.
    const index = Number(cells[0]);
    const total = parseFloat(cells[cells.length - 2]);
    const used = parseFloat(cells[cells.length - 1]);
    if (!Number.isInteger(index) || !Number.isFinite(total) || !Number.isFinite(used)) continue;
    gpus.push({ index, name: cells.slice(1, -2).join(', '), memoryTotalMb: total, memoryUsedMb: used });
  }
  return gpus;
}

/** Parses SEGTUNE_FAKE_GPUS, e.g. `0:H200:143000:0,1:H200:143000:512` (index:name:totalMb:usedMb). */
export function parseFakeGpus(text: string): GpuInfo[] {
  if (!text.trim() || text.trim() === 'none') return [];
  return text.split(',').map((item) => {
    const [index, name, total, used] = item.trim().split(':');
    const gpu = { index: Number(index), name: name || 'fake', memoryTotalMb: Number(total ?? 16_000), memoryUsedMb: Number(used ?? 0) };
    if (!Number.isInteger(gpu.index) || gpu.index < 0 || !Number.isFinite(gpu.memoryTotalMb) || !Number.isFinite(gpu.memoryUsedMb)) {
      throw new UserError(`SEGTUNE_FAKE_GPUS: "${item}" is not index:name:totalMb:usedMb`);
    }
    return gpu;
  });
}

/**
 * The GPUs of this machine from nvidia-smi; [] when it is absent or fails. SEGTUNE_FAKE_GPUS
 * replaces the inventory (tests, and machines where the query must be skipped).
 */
export function detectGpus(env: NodeJS.ProcessEnv = process.env): GpuInfo[] {
  if (env.SEGTUNE_FAKE_GPUS !== undefined) return parseFakeGpus(env.SEGTUNE_FAKE_GPUS);
  try {
    const out = execFileSync('nvidia-smi', NVIDIA_SMI_ARGS, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return parseNvidiaSmi(out);
  } catch {
    return [];
  }
}

/**
 * The GPUs that `--gpus` selects: `all` (every detected one, maybe none), `none`, or a list
 * of indices such as `0,1` that must all exist.
 */
export function parseGpuFlag(flag: string | undefined, inventory: readonly GpuInfo[]): GpuInfo[] {
  const text = (flag ?? 'all').trim();
  if (text === 'all') return [...inventory];
  if (text === 'none' || text === '') return [];
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new UserError(`--gpus ${text}: expected all, none or a comma-separated list of GPU indices such as 0,1`);
  }
  const known = inventory.map((g) => g.index);
  const have = known.length ? `this machine has GPU${known.length > 1 ? 's' : ''} ${known.join(', ')}` : 'no GPU was found (nvidia-smi is missing or failed); use --gpus none';
  const picked: GpuInfo[] = [];
  for (const p of parts) {
    const index = Number(p);
    const gpu = inventory.find((g) => g.index === index);
    if (!gpu) throw new UserError(`--gpus ${text}: unknown GPU index ${index}; ${have}`);
    if (picked.includes(gpu)) throw new UserError(`--gpus ${text}: GPU ${index} is listed twice`);
    picked.push(gpu);
  }
  return picked;
}
