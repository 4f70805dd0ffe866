/**
 * Reads one stdout line of a command workload as a JSON object. Python's `json.dumps` writes
 * `NaN`, `Infinity` and `-Infinity` for non-finite floats, which JSON.parse refuses; they are
 * read here as the numbers they stand for, so that a NaN result fails its trial as non-finite
 * instead of being skipped. Returns undefined for anything that is not one JSON object.
 */
export function parseResultLine(text: string): Record<string, unknown> | undefined {
  const line = text.trim();
  if (!line.startsWith('{') || !line.endsWith('}')) return undefined;
  let obj: unknown;
  try {
    obj = parsePythonJson(line);
  } catch {
    return undefined;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  return obj as Record<string, unknown>;
}

/**
 * JSON.parse that also reads Python's bare `NaN`, `Infinity` and `-Infinity` values (anywhere a
 * value may stand, never inside strings or as keys) as those numbers. Throws JSON.parse's error
 * for text that is not JSON even so.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const marked = markNonFinite(text);
    if (marked === undefined) throw e;
    return JSON.parse(marked, (_key, v: unknown) => (typeof v === 'string' && v.startsWith(MARK) ? NON_FINITE[v.slice(MARK.length)] : v));
  }
}

// A prefix no JSON text can produce in a string by accident (JSON forbids raw control characters).
const MARK = '\u0000segtune:';
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const TOKEN = /^(-?Infinity|NaN)/;

/** Rewrites bare NaN/Infinity tokens outside strings as marked strings; undefined when there are none. */
function markNonFinite(line: string): string | undefined {
  let out = '';
  let found = false;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      out += c;
      if (c === '\\') out += line[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const m = c === 'N' || c === 'I' || c === '-' ? TOKEN.exec(line.slice(i, i + 9)) : null;
    // Only as a value: first, or after ':', ',' or '[' (spaces aside), never as a key.
    if (m && /(^|[:,[])\s*$/.test(out)) {
      out += JSON.stringify(MARK + m[1]);
      i += m[1].length - 1;
      found = true;
      continue;
    }
    out += c;
  }
  return found ? out : undefined;
}
