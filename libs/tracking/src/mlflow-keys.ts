// MLflow's rules for param, metric and tag keys and values (mlflow/utils/validation.py, 3.x):
// keys match ^[/\w.\- :]*$ (Python's Unicode \w), are at most 250 characters, and must be
// normalised relative paths (no leading "/", no "." or ".." segments, no "//", no trailing "/").
// Param values are at most 6,000 characters, tag values 8,000.

export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;

// Python's str \w is [\p{L}\p{N}_] (isalnum() or "_"); JavaScript's \w is ASCII only.
const VALID_CHARS = /^[/\p{L}\p{N}_.\- :]*$/u;
const INVALID_CHAR = /[^/\p{L}\p{N}_.\- :]/gu;

/** True when MLflow accepts `key` as a param, metric or tag key unchanged. */
export function isValidKey(key: string): boolean {
  return key.length > 0 && key.length <= MAX_KEY_LENGTH && VALID_CHARS.test(key) && isNormalisedPath(key);
}

function isNormalisedPath(key: string): boolean {
  if (key.startsWith('/') || key.endsWith('/') || key.includes('//')) return false;
  return key.split('/').every((seg) => seg !== '.' && seg !== '..');
}

/**
 * The key MLflow will accept for `name`. The mapping, documented here and recorded in each run
 * as the `segtune.key_map` tag (JSON `{ "mlflow key": "original name" }`):
 * - every character outside letters, digits, `_ . - : /` and space becomes `_`;
 * - runs of `/` collapse to one, leading and trailing `/` are dropped, and `.`/`..` path
 *   segments become `_`/`__`; an empty result becomes `_`;
 * - a key longer than 250 characters keeps its first 241 characters, then `-` and 8 hex digits
 *   of a hash of the original name, so distinct long names stay distinct.
 * Valid names are returned unchanged.
 */
export function mapKey(name: string): string {
  if (isValidKey(name)) return name;
  let key = name.replace(INVALID_CHAR, '_').replace(/\/{2,}/g, '/').replace(/^\/+|\/+$/g, '');
  key = key
    .split('/')
    .map((seg) => (seg === '.' ? '_' : seg === '..' ? '__' : seg))
    .join('/');
  if (key === '') key = '_';
  if (key.length > MAX_KEY_LENGTH) key = `${key.slice(0, MAX_KEY_LENGTH - 9).replace(/\/+$/, '_')}-${fnv1a(name)}`;
  return key;
}

/**
 * Maps a set of names at once, keeping the mapped keys distinct: when two names map to the same
 * key (`lr@1` and `lr_1`), later ones get `-2`, `-3`… appended. Returns name → key.
 */
export function mapKeys(names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  // Valid names claim their own key first, so that a mapped name never takes a real one's key.
  for (const n of names) if (isValidKey(n)) used.add(n);
  for (const n of names) {
    if (out.has(n)) continue;
    if (isValidKey(n)) {
      out.set(n, n);
      continue;
    }
    const base = mapKey(n);
    let key = base;
    for (let i = 2; used.has(key); i++) {
      const suffix = `-${i}`;
      key = `${base.slice(0, MAX_KEY_LENGTH - suffix.length)}${suffix}`;
    }
    used.add(key);
    out.set(n, key);
  }
  return out;
}

/** Cuts a value to MLflow's limit, marking the cut with `...`. */
export function truncateValue(value: string, limit: number): string {
  return value.length <= limit ? value : `${value.slice(0, limit - 3)}...`;
}

/** A param value as text: numbers in their shortest round-trip form, booleans as true/false. */
export function paramValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
