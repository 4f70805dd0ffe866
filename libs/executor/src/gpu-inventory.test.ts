import { describe, expect, it } from 'vitest';
import { isUserError } from '@segtune/core';
import { detectGpus, freeBytes, parseFakeGpus, parseGpuFlag, parseNvidiaSmi } from './gpu-inventory';

const inventory = parseFakeGpus('0:H200:143000:0,1:H200:143000:1000');

function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isUserError(e)) return e.message;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('GPU inventory', () => {
  it('parses nvidia-smi csv, with or without units, names with commas included', () => {
    expect(parseNvidiaSmi('0, NVIDIA H200, 143771, 1\n1, NVIDIA H200, 143771, 520\n')).toEqual([
      { index: 0, name: 'NVIDIA H200', memoryTotalMb: 143771, memoryUsedMb: 1 },
      { index: 1, name: 'NVIDIA H200', memoryTotalMb: 143771, memoryUsedMb: 520 },
    ]);
    expect(parseNvidiaSmi('3, Tesla T4, rev, A, 15360 MiB, 0 MiB')).toEqual([{ index: 3, name: 'Tesla T4, rev, A', memoryTotalMb: 15360, memoryUsedMb: 0 }]);
    expect(parseNvidiaSmi('No devices were found\n')).toEqual([]);
  });

  it('takes a fake inventory from SEGTUNE_FAKE_GPUS', () => {
    expect(detectGpus({ SEGTUNE_FAKE_GPUS: '0:H200:143000:0,1:H200:143000:1000' })).toEqual(inventory);
    expect(detectGpus({ SEGTUNE_FAKE_GPUS: '' })).toEqual([]);
    expect(freeBytes(inventory[1])).toBe(142000 * 2 ** 20);
    expect(userError(() => parseFakeGpus('x:H200'))).toContain('SEGTUNE_FAKE_GPUS: "x:H200"');
  });

  it('returns no GPU when nvidia-smi is missing', () => {
    // execFileSync looks nvidia-smi up on the PATH of this process: point it nowhere.
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(detectGpus({})).toEqual([]);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('selects GPUs from --gpus', () => {
    expect(parseGpuFlag('all', inventory)).toEqual(inventory);
    expect(parseGpuFlag(undefined, inventory)).toEqual(inventory);
    expect(parseGpuFlag('none', inventory)).toEqual([]);
    expect(parseGpuFlag('1', inventory)).toEqual([inventory[1]]);
    expect(parseGpuFlag(' 1 , 0 ', inventory)).toEqual([inventory[1], inventory[0]]);
    expect(parseGpuFlag('all', [])).toEqual([]);
  });

  it('rejects unknown, repeated and malformed GPU indices in one line', () => {
    expect(userError(() => parseGpuFlag('0,2', inventory))).toBe('--gpus 0,2: unknown GPU index 2; this machine has GPUs 0, 1');
    expect(userError(() => parseGpuFlag('0', []))).toBe('--gpus 0: unknown GPU index 0; no GPU was found (nvidia-smi is missing or failed); use --gpus none');
    expect(userError(() => parseGpuFlag('1,1', inventory))).toBe('--gpus 1,1: GPU 1 is listed twice');
    expect(userError(() => parseGpuFlag('first', inventory))).toBe('--gpus first: expected all, none or a comma-separated list of GPU indices such as 0,1');
    expect(userError(() => parseGpuFlag('-1', inventory))).toContain('expected all, none');
  });
});
