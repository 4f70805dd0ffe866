import { describe, expect, it } from 'vitest';
import { isValidKey, mapKey, mapKeys, truncateValue } from './mlflow-keys';

describe('MLflow key rules', () => {
  it('accepts what MLflow accepts, unchanged', () => {
    for (const k of ['lr', 'train/loss', 'a b', 'x:y', 'n-1.5', 'né', '数']) {
      expect(isValidKey(k)).toBe(true);
      expect(mapKey(k)).toBe(k);
    }
  });

  it('maps bad characters, non-normalised paths and long names', () => {
    expect(mapKey('lr@init')).toBe('lr_init');
    expect(mapKey('batch size (px)')).toBe('batch size _px_');
    expect(mapKey('/abs/')).toBe('abs');
    expect(mapKey('a//b')).toBe('a/b');
    expect(mapKey('../up')).toBe('__/up');
    expect(mapKey('./.')).toBe('_/_');
    expect(mapKey('')).toBe('_');
    const long = mapKey('x'.repeat(300));
    expect(long).toHaveLength(250);
    expect(isValidKey(long)).toBe(true);
    expect(mapKey('x'.repeat(300))).not.toBe(mapKey(`${'x'.repeat(299)}y`));
  });

  it('keeps mapped keys distinct from each other and from valid names', () => {
    const m = mapKeys(['lr@1', 'lr_1', 'lr#1']);
    expect(m.get('lr_1')).toBe('lr_1');
    expect(m.get('lr@1')).toBe('lr_1-2');
    expect(m.get('lr#1')).toBe('lr_1-3');
  });

  it('cuts long values and marks the cut', () => {
    expect(truncateValue('abcdef', 5)).toBe('ab...');
    expect(truncateValue('abc', 5)).toBe('abc');
  });
});
