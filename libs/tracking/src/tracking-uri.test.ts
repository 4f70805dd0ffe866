import { describe, expect, it } from 'vitest';
import { resolveTrackingUri } from './tracking-uri';

describe('resolveTrackingUri', () => {
  it('prefers the flag, then MLFLOW_TRACKING_URI, and drops trailing slashes', () => {
    expect(resolveTrackingUri('http://a:5000/', { MLFLOW_TRACKING_URI: 'http://b:5000' })).toBe('http://a:5000');
    expect(resolveTrackingUri(undefined, { MLFLOW_TRACKING_URI: 'https://b.example/mlflow/' })).toBe('https://b.example/mlflow');
    expect(resolveTrackingUri(undefined, {})).toBeUndefined();
  });

  it('refuses what is not an http(s) tracking server, naming the source', () => {
    expect(() => resolveTrackingUri('localhost:5000', {})).toThrow(/^--mlflow "localhost:5000": .*http:\/\/ or https:\/\//);
    expect(() => resolveTrackingUri('nope', {})).toThrow(/^--mlflow "nope" is not a URL/);
    expect(() => resolveTrackingUri(undefined, { MLFLOW_TRACKING_URI: 'file:///tmp/mlruns' })).toThrow(/^MLFLOW_TRACKING_URI "file:\/\/\/tmp\/mlruns"/);
    try {
      resolveTrackingUri('nope', {});
    } catch (e) {
      expect((e as Error).name).toBe('UserError');
    }
  });
});
