import { describe, expect, it } from 'vitest';
import { nativeBackendEnv } from './native-env';

describe('nativeBackendEnv', () => {
  it('gives each trial its share of the cores, one inter-op thread, and quiet logs', () => {
    expect(nativeBackendEnv({ trialsAtOnce: 2, cores: 2 }, {})).toEqual({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2', TF_ENABLE_ONEDNN_OPTS: '1' });
    expect(nativeBackendEnv({ trialsAtOnce: 1, cores: 16 }, {}).TF_NUM_INTRAOP_THREADS).toBe('16');
    expect(nativeBackendEnv({ trialsAtOnce: 3, cores: 16 }, {}).TF_NUM_INTRAOP_THREADS).toBe('5');
    // More trials than cores: still one thread each, never zero.
    expect(nativeBackendEnv({ trialsAtOnce: 8, cores: 2 }, {}).TF_NUM_INTRAOP_THREADS).toBe('1');
    expect(nativeBackendEnv({ trialsAtOnce: 1, cores: 2, verbose: true }, {}).TF_CPP_MIN_LOG_LEVEL).toBe('0');
  });

  it('lets GPU trials share a card through memory growth', () => {
    expect(nativeBackendEnv({ trialsAtOnce: 4, cores: 16, gpu: true }, {}).TF_FORCE_GPU_ALLOW_GROWTH).toBe('true');
    expect(nativeBackendEnv({ trialsAtOnce: 4, cores: 16 }, {}).TF_FORCE_GPU_ALLOW_GROWTH).toBeUndefined();
  });

  it('leaves what the user set alone, and honours SEGTUNE_TF_THREADS', () => {
    const env = nativeBackendEnv({ trialsAtOnce: 2, cores: 8, gpu: true }, { TF_NUM_INTRAOP_THREADS: '3', TF_FORCE_GPU_ALLOW_GROWTH: 'false' });
    expect(env.TF_NUM_INTRAOP_THREADS).toBeUndefined();
    expect(env.TF_FORCE_GPU_ALLOW_GROWTH).toBeUndefined();
    expect(nativeBackendEnv({ trialsAtOnce: 2, cores: 8 }, { SEGTUNE_TF_THREADS: '7' }).TF_NUM_INTRAOP_THREADS).toBe('7');
  });
});
