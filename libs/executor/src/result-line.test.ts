import { describe, expect, it } from 'vitest';
import { parsePythonJson, parseResultLine } from './result-line';

describe('parseResultLine', () => {
  it('reads JSON objects and Python-style non-finite floats as values', () => {
    expect(parseResultLine('{"loss": 0.5, "final": true}')).toEqual({ loss: 0.5, final: true });
    const r = parseResultLine('{"loss": NaN, "miou": Infinity, "x": [-Infinity, 1]}')!;
    expect(Number.isNaN(r.loss)).toBe(true);
    expect(r.miou).toBe(Infinity);
    expect(r.x).toEqual([-Infinity, 1]);
  });
  it('leaves NaN inside strings alone and refuses anything else', () => {
    expect(parseResultLine('{"note": "NaN, Infinity", "v": NaN}')!.note).toBe('NaN, Infinity');
    expect(parseResultLine('{"loss": 0.')).toBeUndefined();
    expect(parseResultLine('{NaN: 1}')).toBeUndefined();
    expect(parseResultLine('[1, 2]')).toBeUndefined();
    expect(parseResultLine('garbage')).toBeUndefined();
    expect(parseResultLine('{"loss": nan}')).toBeUndefined();
  });
});

describe('parsePythonJson', () => {
  it('reads any JSON value, with bare non-finite floats where a value stands', () => {
    expect(Number.isNaN(parsePythonJson('NaN'))).toBe(true);
    expect(parsePythonJson(' -Infinity')).toBe(-Infinity);
    expect(parsePythonJson('[1, Infinity]')).toEqual([1, Infinity]);
    expect(parsePythonJson('{"a": {"b": NaN}}')).toEqual({ a: { b: NaN } });
    expect(parsePythonJson('"NaN"')).toBe('NaN');
  });
  it('throws for text that is not JSON even so', () => {
    expect(() => parsePythonJson('{"v": 1} , "v": 2')).toThrow(SyntaxError);
    expect(() => parsePythonJson('{NaN: 1}')).toThrow(SyntaxError);
    expect(() => parsePythonJson('nan')).toThrow(SyntaxError);
    expect(() => parsePythonJson('NaNa')).toThrow(SyntaxError);
  });
});
