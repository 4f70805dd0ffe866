import type { Objective, Trial } from '@segtune/core';
import type { Budget } from '@segtune/space';
import { AshaScheduler, type AshaOptions, type RungEntry } from './asha';
import { crowdingDistance, defaultReferencePoint, hypervolumeContributions, nonDominatedSort } from '@segtune/pareto';

export type MoSelection = 'crowding' | 'hypervolume';

export interface MoAshaOptions extends AshaOptions {
  /** How to order trials inside one non-dominated front: crowding distance (default) or hypervolume contribution. */
  selection?: MoSelection;
}

/**
 * Multi-objective ASHA (Schmucker et al. 2021): at each rung, trials are ordered by
 * non-dominated rank, then inside a front by crowding distance (NSGA-II) or exclusive
 * hypervolume contribution, larger first; the top ⌊n/η⌋ go on. Ties go to the lower trial number.
 */
export class MoAshaScheduler extends AshaScheduler {
  readonly selection: MoSelection;

  constructor(budget: Budget | undefined, objectives: readonly Objective[], options: MoAshaOptions = {}, name = 'moasha') {
    super(budget, objectives, options, name);
    this.selection = options.selection ?? 'crowding';
  }

  protected override judged(objectives: readonly Objective[]): readonly Objective[] {
    return objectives;
  }

  protected override passesRung(history: readonly Trial[], me: Trial, bracket: number, rung: number): boolean {
    return this.passesRungRanked(history, me, bracket, rung);
  }

  /** Ranks only the front holding `mine` (earlier fronts count whole), not the whole rung. */
  override rankOf(entries: RungEntry[], mine: RungEntry): number {
    const points = entries.map((e) => e.losses);
    const fronts = nonDominatedSort(points);
    const reference = this.selection === 'hypervolume' ? defaultReferencePoint(points) : [];
    let before = 0;
    for (const front of fronts) {
      if (!front.some((i) => entries[i] === mine)) {
        before += front.length;
        continue;
      }
      return before + this.orderFront(entries, points, front, reference).indexOf(mine);
    }
    return -1;
  }

  override order(entries: RungEntry[]): RungEntry[] {
    if (entries.length === 0) return [];
    const points = entries.map((e) => e.losses);
    const reference = this.selection === 'hypervolume' ? defaultReferencePoint(points) : [];
    return nonDominatedSort(points).flatMap((front) => this.orderFront(entries, points, front, reference));
  }

  /** One front, larger crowding distance or hypervolume contribution first, ties to the lower trial number. */
  private orderFront(entries: RungEntry[], points: number[][], front: number[], reference: number[]): RungEntry[] {
    const fp = front.map((i) => points[i]);
    const score = this.selection === 'hypervolume' ? hypervolumeContributions(fp, reference) : crowdingDistance(fp);
    return front
      .map((i, k) => ({ e: entries[i], s: score[k] }))
      .sort((a, b) => (b.s === a.s ? a.e.unit.number - b.e.unit.number : b.s === Infinity ? 1 : a.s === Infinity ? -1 : b.s - a.s))
      .map((x) => x.e);
  }
}
