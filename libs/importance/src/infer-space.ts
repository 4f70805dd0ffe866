import { Space, type ParamDef, type Params } from '@segtune/space';

/**
 * A space read off the trials, for a study without a stored space file (one driven by ask/tell):
 * numbers become floats over the range seen, anything else a categorical in order of first
 * appearance. A param missing from a trial encodes as inactive there, as a conditional one does.
 */
export function spaceFromTrials(params: readonly Params[]): Space {
  const seen = new Map<string, unknown[]>();
  for (const p of params) for (const [k, v] of Object.entries(p)) (seen.get(k) ?? seen.set(k, []).get(k)!).push(v);
  const defs: ParamDef[] = [...seen].map(([name, values]) => {
    if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      let low = Infinity;
      let high = -Infinity;
      for (const v of values as number[]) {
        if (v < low) low = v;
        if (v > high) high = v;
      }
      return { name, type: 'float', low, high: high > low ? high : low + 1 } as ParamDef;
    }
    return { name, type: 'categorical', choices: [...new Set(values as (string | number | boolean)[])] } as ParamDef;
  });
  return new Space(defs);
}
