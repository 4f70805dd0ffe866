import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, type Node, type Document } from 'yaml';
import type { ZodError } from 'zod';
import { spaceFileSchema, type SpaceFile, type ParamSpec } from './schema';
import { strategyProblem, type StrategyRole } from './strategies';
import { Space, type ParamDef } from './space';
import { didYouMean } from './did-you-mean';
import { nameProblem } from './names';

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  /** Key path inside the document, e.g. `params.lr.low`. */
  path: string;
}

/** Bad input in a space file: one line naming file:line:column, the key path, and what is allowed. */
export class SpaceError extends Error {
  constructor(
    readonly detail: string,
    readonly location: SourceLocation,
  ) {
    super(`${location.file}:${location.line}:${location.column}: ${location.path ? `${location.path}: ` : ''}${detail}`);
    this.name = 'SpaceError';
  }
}

export interface LoadedSpace {
  spec: SpaceFile;
  space: Space;
  /** The file's text, kept for trackers and exports. */
  source: string;
  file: string;
}

/** Reads, parses and validates a space file. Throws SpaceError on any problem. */
export function loadSpaceFile(file: string): LoadedSpace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpaceError(code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(e)})`, {
      file,
      line: 1,
      column: 1,
      path: '',
    });
  }
  return parseSpace(text, file);
}

/** Known keys by context, for "did you mean" on unknown keys. */
const KNOWN_KEYS: Record<string, string[]> = {
  top: Object.keys(spaceFileSchema.shape),
  objective: ['name', 'direction'],
  budget: ['name', 'min', 'max'],
  float: ['type', 'low', 'high', 'log', 'step', 'when', 'default'],
  int: ['type', 'low', 'high', 'log', 'step', 'when', 'default'],
  categorical: ['type', 'choices', 'when', 'default'],
  benchmark: ['kind', 'function', 'noise', 'step_seconds'],
  simulator: ['kind', 'curve', 'noise', 'step_seconds'],
  module: ['kind', 'path', 'export'],
  command: ['kind', 'argv', 'cwd', 'env', 'grace_seconds'],
};

export function parseSpace(text: string, file = '<space>'): LoadedSpace {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, path: string): SourceLocation => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, path };
  };
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const msg = err.code === 'DUPLICATE_KEY' ? `duplicate key (${firstLine(err.message)})` : `YAML syntax error: ${firstLine(err.message)}`;
    throw new SpaceError(msg, at(err.pos[0], ''));
  }
  let raw: unknown;
  try {
    // An alias bomb (billion laughs) is refused by yaml's alias limit: the same one line as any
    // other YAML error.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new SpaceError(`YAML error: ${firstLine((e as Error).message)}`, at(0, ''));
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpaceError('expected a mapping with name, objectives, params and workload', at(0, ''));
  }
  const locate = (path: (string | number)[], key = false) => {
    const node = nodeAt(doc, path, key);
    return at(node?.range?.[0] ?? 0, path.join('.'));
  };

  const parsed = spaceFileSchema.safeParse(raw);
  if (!parsed.success) throw zodToSpaceError(parsed.error, raw as Record<string, unknown>, locate);
  // The sampler and scheduler blocks stay as written (what the study records and trackers log);
  // the registries fill in their defaults with the same schemas when they build.
  const { sampler: _sampler, scheduler: _scheduler, ...rest } = parsed.data;
  const written = raw as Pick<SpaceFile, 'sampler' | 'scheduler'>;
  const spec: SpaceFile = { ...rest, ...(written.sampler && { sampler: written.sampler }), ...(written.scheduler && { scheduler: written.scheduler }) };

  const params: ParamDef[] = [];
  for (const [name, p] of Object.entries(spec.params)) {
    const bad = nameProblem(name);
    if (bad) throw new SpaceError(`param name ${bad}`, locate(['params', name], true));
    const problem = paramProblem(p);
    if (problem) throw new SpaceError(problem.msg, locate(['params', name, ...problem.key], false));
    params.push({ ...p, name } as ParamDef);
  }
  if (params.length === 0) throw new SpaceError('no params: declare at least one', locate(['params']));
  const names = new Set(params.map((p) => p.name));
  for (const p of params) {
    for (const [parent, allowed] of Object.entries(p.when ?? {})) {
      if (!names.has(parent)) {
        const hint = didYouMean(parent, [...names]);
        throw new SpaceError(`"when" names unknown param "${parent}"${hint}`, locate(['params', p.name, 'when', parent], true));
      }
      const parentDef = params.find((q) => q.name === parent)!;
      if (parentDef.type === 'categorical') {
        for (const v of Array.isArray(allowed) ? allowed : [allowed]) {
          if (!parentDef.choices.some((c) => c === v)) {
            throw new SpaceError(`${JSON.stringify(v)} is not a choice of "${parent}" (${JSON.stringify(parentDef.choices)})`, locate(['params', p.name, 'when', parent]));
          }
        }
      }
    }
  }
  let space: Space;
  try {
    space = new Space(params);
  } catch (e) {
    const m = /through "([^"]+)"/.exec((e as Error).message);
    throw new SpaceError(`"when" conditions form a cycle${m ? ` through "${m[1]}"` : ''}; a param cannot depend on itself`, locate(['params', m?.[1] ?? '', 'when']));
  }
  const objectiveNames = new Set<string>();
  spec.objectives.forEach((o, i) => {
    if (objectiveNames.has(o.name)) throw new SpaceError(`duplicate objective "${o.name}"`, locate(['objectives', i, 'name']));
    objectiveNames.add(o.name);
  });
  if (spec.budget && spec.budget.min > spec.budget.max) {
    throw new SpaceError(`budget min ${spec.budget.min} is above max ${spec.budget.max}`, locate(['budget', 'min']));
  }
  if (spec.scheduler && spec.budget) {
    const problem = strategyProblem('scheduler', spec.scheduler, { budget: spec.budget, inFile: true });
    if (problem) throw new SpaceError(problem.detail, locate(['scheduler', ...problem.path]));
  }
  (spec.enqueue ?? []).forEach((cfg, i) => {
    // Partial configurations are welcome: the sampler fills what is left out.
    const problems = space.validatePartial(cfg);
    if (problems.length) throw new SpaceError(`enqueued configuration is invalid: ${problems[0]}`, locate(['enqueue', i]));
  });
  return { spec, space, source: text, file };
}

function paramProblem(p: ParamSpec): { msg: string; key: string[] } | undefined {
  if (p.type === 'categorical') {
    if (p.choices.length === 0) return { msg: 'empty "choices": list at least one value', key: ['choices'] };
    const seen = new Set<string>();
    for (const c of p.choices) {
      const k = JSON.stringify(c);
      if (seen.has(k)) return { msg: `duplicate choice ${k}`, key: ['choices'] };
      seen.add(k);
    }
    return undefined;
  }
  if (!(p.low < p.high)) return { msg: `low (${p.low}) must be below high (${p.high})`, key: ['low'] };
  if (p.log && p.low <= 0) return { msg: `log: true needs low > 0, got ${p.low}`, key: ['low'] };
  if (p.step !== undefined) {
    if (p.log && p.type === 'float') return { msg: 'step and log: true cannot be combined on a float', key: ['step'] };
    const k = (p.high - p.low) / p.step;
    if (Math.abs(k - Math.round(k)) > 1e-9 * Math.max(1, Math.abs(k))) {
      return { msg: `step ${p.step} does not divide the range [${p.low}, ${p.high}]`, key: ['step'] };
    }
  }
  return undefined;
}

type Locate = (path: (string | number)[], key?: boolean) => SourceLocation;

function zodToSpaceError(error: ZodError, raw: Record<string, unknown>, locate: Locate): SpaceError {
  const issue = pickIssue(error);
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
  if (path[0] === 'sampler' || path[0] === 'scheduler') {
    // Strategy options: the same wording as the registries give (./strategies).
    const role: StrategyRole = path[0];
    const problem = strategyProblem(role, raw[role], { inFile: true });
    if (problem) return new SpaceError(problem.detail, locate([role, ...problem.path], problem.key));
  }
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const known = KNOWN_KEYS[contextOf(path, raw)] ?? [];
    return new SpaceError(`unknown key "${key}"${didYouMean(key, known)}; allowed: ${known.join(', ')}`, locate([...path, key], true));
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    // A discriminated union (param `type`, workload `kind`) whose discriminator is missing or unknown.
    const key = String(issue.discriminator);
    const allowed = ((issue as { options?: unknown[] }).options ?? []).map(String);
    const got = valueAt(raw, path);
    const what = path[0] === 'workload' ? 'workload kind' : 'param type';
    return new SpaceError(
      got === undefined ? `missing "${key}"; allowed: ${allowed.join(', ')}` : `unknown ${what} ${JSON.stringify(got)}${didYouMean(String(got), allowed)}; allowed: ${allowed.join(', ')}`,
      locate(got === undefined ? path.slice(0, -1) : path),
    );
  }
  if (issue.code === 'invalid_type') {
    const got = valueAt(raw, path);
    if (got === undefined) return new SpaceError(`missing required key "${path[path.length - 1]}" (expected ${issue.expected})`, locate(path.slice(0, -1)));
    return new SpaceError(`expected ${issue.expected}, got ${describe(got)}`, locate(path));
  }
  if (issue.code === 'invalid_value') {
    return new SpaceError(`${issue.message}`.replace(/^Invalid option: expected one of /, 'allowed: '), locate(path));
  }
  return new SpaceError(issue.message, locate(path));
}

/**
 * The issue to report. A misspelt key shows up twice: as an unknown key and as the real key
 * missing beside it; the unknown key (with its did-you-mean) is the one that helps.
 */
function pickIssue(error: ZodError) {
  const same = (a: PropertyKey[], b: PropertyKey[]) => a.length === b.length && a.every((k, i) => k === b[i]);
  const unknown = error.issues.find(
    (u) => u.code === 'unrecognized_keys' && error.issues.some((m) => m.code === 'invalid_type' && m.path.length === u.path.length + 1 && same(m.path.slice(0, -1), u.path)),
  );
  return unknown ?? error.issues[0];
}

function contextOf(path: (string | number)[], raw: Record<string, unknown>): string {
  if (path.length === 0) return 'top';
  if (path[0] === 'objectives') return 'objective';
  if (path[0] === 'budget') return 'budget';
  if (path[0] === 'params' && path.length === 2) {
    const p = (raw.params as Record<string, Record<string, unknown>>)[String(path[1])];
    return String(p?.type ?? 'float');
  }
  if (path[0] === 'workload') return String((raw.workload as Record<string, unknown>)?.kind ?? 'benchmark');
  return 'top';
}

function valueAt(raw: unknown, path: (string | number)[]): unknown {
  let cur: unknown = raw;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

function describe(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : `${v > 0 ? '' : '-'}infinity (a number beyond the float range, such as 1e400)`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/** The YAML node at a key path: its value, or with `key` the key itself. */
function nodeAt(doc: Document, path: (string | number)[], key: boolean): Node | undefined {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const k of path) {
    keyNode = undefined;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(k));
      if (!pair) return node as Node;
      keyNode = pair.key;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof k === 'number') {
      const item = node.items[k];
      if (!item) return node as Node;
      node = item;
    } else {
      return node as Node;
    }
  }
  return (key && keyNode ? keyNode : node) as Node;
}
