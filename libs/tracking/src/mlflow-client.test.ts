import { describe, expect, it } from 'vitest';
import { artifactPath, BATCH_LIMITS, splitBatch } from './mlflow-client';

describe('splitBatch', () => {
  it('keeps every request within MLflow limits and loses nothing finite', () => {
    const chunks = splitBatch({
      params: Array.from({ length: 120 }, (_, i) => ({ key: `p${i}`, value: 'v'.repeat(6000) })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'w'.repeat(9000) })),
      metrics: Array.from({ length: 1500 }, (_, i) => ({ key: 'm', value: i, timestamp: i, step: i })).concat([{ key: 'nan', value: NaN, timestamp: 0, step: 0 }]),
    });
    let params = 0;
    let tags = 0;
    let metrics = 0;
    for (const c of chunks) {
      expect(c.params.length).toBeLessThanOrEqual(BATCH_LIMITS.params);
      expect(c.tags.length).toBeLessThanOrEqual(BATCH_LIMITS.tags);
      expect(c.metrics.length).toBeLessThanOrEqual(BATCH_LIMITS.metrics);
      expect(c.params.length + c.tags.length + c.metrics.length).toBeLessThanOrEqual(BATCH_LIMITS.entities);
      expect(Buffer.byteLength(JSON.stringify({ run_id: 'f'.repeat(32), ...c }))).toBeLessThanOrEqual(BATCH_LIMITS.bytes);
      params += c.params.length;
      tags += c.tags.length;
      metrics += c.metrics.length;
      for (const t of c.tags) expect(t.value).toHaveLength(8000);
    }
    expect([params, tags, metrics]).toEqual([120, 100, 1500]);
    // 100 tags of 8 kB and 120 params of 6 kB are 1.5 MB: the byte limit splits them.
    expect(chunks.length).toBeGreaterThanOrEqual(3);
  });

  it('keeps the first value of a repeated param and the last of a repeated tag', () => {
    const [c] = splitBatch({ params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }], tags: [{ key: 't', value: 'x' }, { key: 't', value: 'y' }] });
    expect(c.params).toEqual([{ key: 'a', value: '1' }]);
    expect(c.tags).toEqual([{ key: 't', value: 'y' }]);
  });

  it('sends nothing for an empty batch', () => {
    expect(splitBatch({})).toEqual([]);
  });
});

describe('artifactPath', () => {
  it('drops the mlflow-artifacts scheme and authority', () => {
    expect(artifactPath('mlflow-artifacts:/3/abc/artifacts')).toBe('3/abc/artifacts');
    expect(artifactPath('mlflow-artifacts://host:5000/3/abc/artifacts/')).toBe('3/abc/artifacts');
  });

  it('refuses artifact stores the server does not proxy, in one line', () => {
    expect(() => artifactPath('file:///tmp/mlruns/1/abc/artifacts')).toThrow(/not served by the tracking server; start mlflow server with artifact serving/);
  });
});
