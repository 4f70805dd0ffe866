import type { Observation } from './observations';

// TPE's bad-group estimator needs, per dimension, its observations in order of value (each
// kernel is as wide as the gap to its neighbours). Sorting thousands of them afresh on every
// suggestion was the largest part of a suggestion at 1,000-5,000 trials, yet from one suggestion
// to the next the observations barely change: one trial finished, one started. SortedColumns
// keeps every observation sorted per dimension between suggestions, merges in the new ones and
// drops the gone ones in one linear pass, and hands out the order of any subset in one more.
// The order it hands out is exactly stableOrder's (ties by position in the subset), so the
// estimator, and the sampler, stay a function of the history alone: the cache changes the cost,
// never the result.

let stampCounter = 0;
/** A fresh pass stamp (see Observation.stamp). */
function nextStamp(): number {
  stampCounter = (stampCounter + 1) % 0x7fffffff || 1;
  return stampCounter;
}

export class SortedColumns {
  /** Dense id → observation, as of the last update. */
  private held: Observation[] = [];
  /**
   * Per kept dimension: dense ids by ascending coordinate and those coordinates, in buffers with
   * room to grow (the first `sizes[dim]` entries count).
   */
  private readonly ids: Int32Array[];
  private readonly values: Float64Array[];
  private readonly sizes: number[];
  /**
   * The stamp of the last update: an observation whose stamp is this one carries its dense id in
   * `slot`. Valid until the suggestion that made the update returns (nothing else runs between).
   */
  private owner = -1;
  private slotOf = new Int32Array(0);
  /** Row-major coordinates by dense id (d per row), so gathering columns skips each point array. */
  private coords = new Float64Array(0);

  /** @param dims which dimensions to keep sorted (the others return no order) */
  constructor(
    private readonly d: number,
    private readonly dims: ReadonlySet<number>,
  ) {
    this.ids = Array.from({ length: d }, () => new Int32Array(0));
    this.values = Array.from({ length: d }, () => new Float64Array(0));
    this.sizes = new Array<number>(d).fill(0);
  }

  /** Brings the lists up to date with `observations`, every one the coming suggestion can use. */
  update(observations: readonly Observation[]): void {
    const held = this.held;
    const before = nextStamp();
    for (let i = 0; i < held.length; i++) {
      held[i].stamp = before;
      held[i].slot = i;
    }
    const now = nextStamp();
    const next: Observation[] = [];
    const remap = new Int32Array(held.length).fill(-1); // old id → new id
    const fresh: number[] = [];
    let same = true; // every held observation kept its id
    for (const x of observations) {
      if (x.stamp === now) continue; // listed twice: held once
      const id = next.length;
      if (x.stamp === before) {
        remap[x.slot!] = id;
        if (x.slot !== id) same = false;
      } else fresh.push(id);
      x.stamp = now;
      x.slot = id;
      next.push(x);
    }
    this.owner = now;
    const kept = next.length - fresh.length;
    if (same && kept === held.length) {
      // Nothing gone and nothing moved, so the new ones come last (a study's usual step: the
      // trial that just finished): insert them in place.
      if (fresh.length) this.append(next, fresh);
    } else this.rebuild(next, held.length, remap, fresh);
    this.held = next;
    if (this.slotOf.length < next.length) this.slotOf = new Int32Array(next.length * 2);
  }

  /** Adds the observations `fresh` (ids past the held ones) to the rows and each list. */
  private append(next: readonly Observation[], fresh: readonly number[]): void {
    const d = this.d;
    if (this.coords.length < next.length * d) {
      const grown = new Float64Array(next.length * d * 2);
      grown.set(this.coords);
      this.coords = grown;
    }
    for (const id of fresh) {
      const p = next[id].point;
      for (let k = 0; k < d; k++) this.coords[id * d + k] = p[k];
    }
    for (const dim of this.dims) {
      let size = this.sizes[dim];
      let ids = this.ids[dim];
      let values = this.values[dim];
      if (ids.length < size + fresh.length) {
        const cap = 2 * (size + fresh.length);
        const i2 = new Int32Array(cap);
        const v2 = new Float64Array(cap);
        i2.set(ids.subarray(0, size));
        v2.set(values.subarray(0, size));
        this.ids[dim] = ids = i2;
        this.values[dim] = values = v2;
      }
      for (const id of fresh) {
        const v = next[id].point[dim];
        if (Number.isNaN(v)) continue;
        let a = 0;
        let b = size;
        while (a < b) {
          const mid = (a + b) >> 1;
          if (values[mid] <= v) a = mid + 1;
          else b = mid;
        }
        ids.copyWithin(a + 1, a, size);
        values.copyWithin(a + 1, a, size);
        ids[a] = id;
        values[a] = v;
        size++;
      }
      this.sizes[dim] = size;
    }
  }

  /** Rows and lists under the new ids: the surviving entries (remapped) merged with the fresh ones. */
  private rebuild(next: readonly Observation[], heldCount: number, remap: Int32Array, fresh: readonly number[]): void {
    const d = this.d;
    const coords = new Float64Array(next.length * d);
    const previous = this.coords;
    for (let old = 0; old < heldCount; old++) {
      const id = remap[old];
      if (id >= 0) for (let k = 0; k < d; k++) coords[id * d + k] = previous[old * d + k];
    }
    for (const id of fresh) {
      const p = next[id].point;
      for (let k = 0; k < d; k++) coords[id * d + k] = p[k];
    }
    this.coords = coords;
    for (const dim of this.dims) {
      const add = fresh.filter((id) => !Number.isNaN(next[id].point[dim])).sort((a, b) => next[a].point[dim] - next[b].point[dim]);
      const oldIds = this.ids[dim];
      const oldV = this.values[dim];
      const oldSize = this.sizes[dim];
      const ids = new Int32Array(oldSize + add.length);
      const values = new Float64Array(oldSize + add.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < oldSize || j < add.length) {
        if (i < oldSize && remap[oldIds[i]] < 0) {
          i++; // gone
          continue;
        }
        if (j >= add.length || (i < oldSize && oldV[i] <= next[add[j]].point[dim])) {
          ids[k] = remap[oldIds[i]];
          values[k++] = oldV[i++];
        } else {
          ids[k] = add[j];
          values[k++] = next[add[j++]].point[dim];
        }
      }
      this.ids[dim] = ids;
      this.values[dim] = values;
      this.sizes[dim] = k;
    }
  }

  /**
   * `xs`'s coordinates along `dims`, one column per dimension (as reading each point would give);
   * undefined when `xs` holds an observation the last update did not see.
   */
  columns(dims: readonly number[], xs: readonly Observation[]): Float64Array[] | undefined {
    const d = this.d;
    const coords = this.coords;
    const cols = dims.map(() => new Float64Array(xs.length));
    for (let j = 0; j < xs.length; j++) {
      const x = xs[j];
      if (x.stamp !== this.owner) return undefined;
      const o = x.slot! * d;
      for (let c = 0; c < dims.length; c++) cols[c][j] = coords[o + dims[c]];
    }
    return cols;
  }

  /**
   * For each of `dims`, stableOrder of `xs`'s coordinates there (indices into `xs` by value, ties
   * by index), each in one pass over the kept list; undefined for a dimension not kept, and for
   * all when `xs` holds an observation the last update did not see (or one twice): the caller
   * sorts instead.
   */
  orders(dims: readonly number[], xs: readonly Observation[]): (Int32Array | undefined)[] {
    const none = dims.map(() => undefined);
    const slotOf = this.slotOf.subarray(0, this.held.length).fill(-1);
    for (let j = 0; j < xs.length; j++) {
      const x = xs[j];
      if (x.stamp !== this.owner || slotOf[x.slot!] !== -1) return none;
      slotOf[x.slot!] = j;
    }
    return dims.map((dim) => {
      if (!this.dims.has(dim)) return undefined;
      const list = this.ids[dim];
      const v = this.values[dim];
      const size = this.sizes[dim];
      const out = new Int32Array(xs.length);
      let k = 0;
      for (let i = 0; i < size; ) {
        let e = i + 1;
        while (e < size && v[e] === v[i]) e++;
        const start = k;
        for (let r = i; r < e; r++) {
          const s = slotOf[list[r]];
          if (s >= 0) out[k++] = s;
        }
        if (k - start > 1) out.subarray(start, k).sort();
        i = e;
      }
      return k === xs.length ? out : undefined;
    });
  }
}
