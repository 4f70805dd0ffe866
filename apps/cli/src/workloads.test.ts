import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '@segtune/seg';
import { isolation } from './workloads';

describe('the CLI resolver’s isolation rule', () => {
  it('gives a process to segmentation trials that may train on native TensorFlow, this thread to benchmarks and the simulator, and a thread to the rest', async () => {
    const seg = { kind: 'segmentation' } as const;
    expect(await isolation({ kind: 'benchmark', function: 'branin' }, { backend: 'tensorflow' })).toBe('main');
    expect(await isolation({ kind: 'simulator' } as never, {})).toBe('main');
    expect(await isolation({ kind: 'module', path: 'w.mjs' } as never, {})).toBe('thread');
    expect(await isolation({ kind: 'command', argv: ['true'] }, {})).toBe('thread');
    expect(await isolation(seg, { backend: 'tensorflow' })).toBe('process');
    expect(await isolation(seg, { backend: 'tensorflow-gpu' })).toBe('process');
    expect(await isolation(seg, { backend: 'wasm' })).toBe('thread');
    // The space file's own backend counts when no --backend is given; --backend wins over it.
    expect(await isolation({ ...seg, backend: 'cpu' } as never, {})).toBe('thread');
    expect(await isolation({ ...seg, backend: 'cpu' } as never, { backend: 'tensorflow' })).toBe('process');
    // Auto: a process exactly when a native build is set up here.
    const native = nativeAvailable('cpu') || nativeAvailable('gpu');
    expect(await isolation(seg, {})).toBe(native ? 'process' : 'thread');
  });
});
