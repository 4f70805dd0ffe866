// A treap (randomised balanced search tree) of 2-D points kept as a staircase: x strictly
// increasing and y strictly decreasing in order. The 3-D hypervolume sweep needs ordered
// insertion, predecessor and successor queries and the removal of a run of neighbours, each in
// O(log n); no library in our dependencies provides an ordered tree, so this is a small one.
// Split and merge do all the work; priorities come from a fixed-seed xorshift so that the shape,
// and with it the floating-point summation order, is reproducible.

export class StaircaseTree {
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];
  private readonly left: number[] = [];
  private readonly right: number[] = [];
  private readonly prio: number[] = [];
  private root = -1;
  private seed = 0x2545f491;

  private node(x: number, y: number): number {
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    this.xs.push(x);
    this.ys.push(y);
    this.left.push(-1);
    this.right.push(-1);
    this.prio.push(this.seed >>> 0);
    return this.xs.length - 1;
  }

  /** Splits t into the in-order prefix whose nodes satisfy `goesLeft` and the rest. `goesLeft` must be monotone along the order. */
  private split(t: number, goesLeft: (n: number) => boolean): [number, number] {
    if (t < 0) return [-1, -1];
    if (goesLeft(t)) {
      const [a, b] = this.split(this.right[t], goesLeft);
      this.right[t] = a;
      return [t, b];
    }
    const [a, b] = this.split(this.left[t], goesLeft);
    this.left[t] = b;
    return [a, t];
  }

  private merge(a: number, b: number): number {
    if (a < 0) return b;
    if (b < 0) return a;
    if (this.prio[a] > this.prio[b]) {
      this.right[a] = this.merge(this.right[a], b);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]);
    return b;
  }

  private first(t: number): number {
    if (t < 0) return -1;
    while (this.left[t] >= 0) t = this.left[t];
    return t;
  }

  private last(t: number): number {
    if (t < 0) return -1;
    while (this.right[t] >= 0) t = this.right[t];
    return t;
  }

  private inOrder(t: number, out: number[]): void {
    // Iterative, so a degenerate shape cannot overflow the stack.
    const stack: number[] = [];
    let cur = t;
    while (cur >= 0 || stack.length) {
      while (cur >= 0) {
        stack.push(cur);
        cur = this.left[cur];
      }
      cur = stack.pop()!;
      out.push(cur);
      cur = this.right[cur];
    }
  }

  /**
   * Adds (x, y) to the staircase bounded by the reference point (rx, ry) and returns the area
   * it newly dominates: 0 when an existing point weakly dominates it; otherwise the points it
   * dominates are removed.
   */
  insert(x: number, y: number, rx: number, ry: number): number {
    const [L, R] = this.split(this.root, (n) => this.xs[n] < x);
    const pred = this.last(L);
    const succ = this.first(R);
    if ((pred >= 0 && this.ys[pred] <= y) || (succ >= 0 && this.xs[succ] === x && this.ys[succ] <= y)) {
      this.root = this.merge(L, R);
      return 0;
    }
    // Points at or right of x with y >= this y are dominated: a prefix of R.
    const [gone, R2] = this.split(R, (n) => this.ys[n] >= y);
    const removed: number[] = [];
    this.inOrder(gone, removed);
    const next = this.first(R2);
    const endX = next >= 0 ? this.xs[next] : rx;
    // Before the insertion the strip [x, endX) was dominated up to the level of pred, then of each
    // removed point in turn; now it is dominated down to y everywhere.
    let gain = 0;
    let level = pred >= 0 ? this.ys[pred] : ry;
    let from = x;
    for (const n of removed) {
      gain += (this.xs[n] - from) * (level - y);
      from = this.xs[n];
      level = this.ys[n];
    }
    gain += (endX - from) * (level - y);
    this.root = this.merge(this.merge(L, this.node(x, y)), R2);
    return gain;
  }

  /** The staircase in x order, for tests. */
  points(): [number, number][] {
    const out: number[] = [];
    this.inOrder(this.root, out);
    return out.map((n) => [this.xs[n], this.ys[n]]);
  }
}
