import { UserError, isFinished, type Decision, type Objective, type Scheduler, type SchedulerContext, type Trial } from '@segtune/core';
import type { Budget } from '@segtune/space';
import { resolveRungs, type ResolvedRungs, type RungSettings } from './brackets';
import { asLoss, crossedRungs, rungLadder, rungMetric, rungValue } from './rungs';

export interface SuccessiveHalvingOptions extends RungSettings {
  /**
   * Trials per cohort: trial numbers [c·N, (c+1)·N) are halved together. Default η^K for K rungs,
   * so that one trial of each cohort reaches the full budget.
   */
  cohortSize?: number;
}

interface Chain {
  /** alive[i]: the cohort members promoted to rung i (alive[0] = every member present). */
  alive: Set<number>[];
  /** complete[i]: every member alive at rung i reported it or finished. */
  complete: boolean[];
}

/**
 * Synchronous successive halving (Jamieson & Talwalkar 2016): trials are grouped into cohorts by
 * trial number; a rung of a cohort is decided only when every member promoted to it has reported
 * it or finished (a failed or stale trial is finished and counts for nothing, so it never blocks
 * the rung), and then the best ⌊n/η⌋ (at least one) go on, ties to the lower trial number.
 *
 * A driver that can pause trials (checkpointing, the simulator) calls `hold` before `decide`
 * and parks a trial that reached an undecided rung; `canStart` keeps one cohort in flight at a
 * time, as the synchronous algorithm does. Through the plain `decide` contract, which cannot
 * wait, a trial at an undecided rung goes on and is stopped at its first report after the rung is
 * decided if it was not promoted.
 */
export class SuccessiveHalvingScheduler implements Scheduler {
  readonly name = 'sha';
  readonly needsHistory = true;
  readonly rungs: ResolvedRungs;
  readonly ladder: number[];
  readonly cohortSize: number;
  private readonly objective: Objective;
  /**
   * The last chain computed per cohort, with a fingerprint of its members (count and the sum of
   * their change counters, which only grow): a cache of a pure function of stored data, so it
   * never changes a decision, it only spares recomputing while many parked trials are re-asked.
   */
  private readonly chains = new Map<string, { fingerprint: string; chain: Chain }>();

  constructor(budget: Budget | undefined, objectives: readonly Objective[], options: SuccessiveHalvingOptions = {}) {
    this.rungs = resolveRungs('sha', budget, options);
    this.ladder = rungLadder(this.rungs.minResource, this.rungs.eta, 0, this.rungs.budget.max, this.rungs.grace);
    this.cohortSize = options.cohortSize ?? Math.max(1, Math.round(this.rungs.eta ** this.ladder.length));
    if (!Number.isInteger(this.cohortSize) || this.cohortSize < 1) throw new UserError(`scheduler "sha": option "cohort_size" must be an integer >= 1, got ${this.cohortSize}`);
    if (objectives.length === 0) throw new Error('scheduler "sha" needs an objective');
    this.objective = objectives[0];
  }

  cohortOf(trialNumber: number): number {
    return Math.floor(trialNumber / this.cohortSize);
  }

  decide(ctx: SchedulerContext): Decision {
    return this.judge(ctx).decision;
  }

  /** True when the trial reached a rung whose cohort has not decided it yet. */
  hold(ctx: SchedulerContext): boolean {
    return this.judge(ctx).waiting;
  }

  /** A new trial may start once every earlier cohort has finished. */
  canStart(trialNumber: number, history: readonly Trial[]): boolean {
    const first = this.cohortOf(trialNumber) * this.cohortSize;
    return history.every((t) => t.number >= first || isFinished(t));
  }

  private judge(ctx: SchedulerContext): { decision: Decision; waiting: boolean } {
    const me = ctx.trial;
    const chain = this.chainOf(ctx, this.cohortOf(me.number));
    const crossedNow = new Set(crossedRungs(me, ctx.step, this.ladder));
    for (let i = 0; i < this.ladder.length; i++) {
      if (!rungValue(me, this.ladder[i], this.objective.name)) break;
      if (!chain.complete[i]) return { decision: 'continue', waiting: crossedNow.has(this.ladder[i]) || this.reachedOnly(me, i) };
      if (!chain.alive[i + 1].has(me.number)) return { decision: 'stop', waiting: false };
    }
    return { decision: 'continue', waiting: false };
  }

  /** The trial went no further than rung i (a parked trial re-asked at its rung step). */
  private reachedOnly(t: Trial, i: number): boolean {
    const next = this.ladder[i + 1] ?? this.rungs.budget.max;
    return Object.keys(t.intermediate).every((s) => Number(s) < next);
  }

  /**
   * The chain of a cohort, from its trials in the history with the reporting trial's newest state.
   * When the stored history already holds this report (the usual case), the members' change
   * counters are current and the last chain computed for the cohort is reused while their count
   * and the sum of their counters (which only grow) are unchanged. Drivers that park trials ask
   * again for every parked trial after each event, so the check is one pass without allocation.
   */
  private chainOf(ctx: SchedulerContext, cohort: number): Chain {
    const me = ctx.trial;
    const first = cohort * this.cohortSize;
    const end = first + this.cohortSize;
    const h = ctx.history;
    // Histories come sorted by trial number with dense numbers: look at h[first, end) only.
    const last = Math.min(h.length, end) - 1;
    const dense = h[first]?.number === first && h[last]?.number === last;
    const from = dense ? first : 0;
    const to = dense ? last + 1 : h.length;
    let count = 0;
    let seqSum = 0;
    let stored: Trial | undefined;
    for (let i = from; i < to; i++) {
      const t = h[i];
      if (t.number < first || t.number >= end) continue;
      count++;
      seqSum += t.seq;
      if (t.id === me.id && t.studyId === me.studyId) stored = t;
    }
    const members = () => {
      const list: Trial[] = [];
      for (let i = from; i < to; i++) {
        const t = h[i];
        if (t.number >= first && t.number < end) list.push(t.id === me.id && t.studyId === me.studyId ? me : t);
      }
      if (!stored) list.push(me);
      return list;
    };
    const fresh = stored !== undefined && (stored === me || stored.intermediate[ctx.step] !== undefined);
    if (!fresh) return this.chain(members());
    const key = `${me.studyId}:${cohort}`;
    const fingerprint = `${count}:${seqSum}`;
    const hit = this.chains.get(key);
    if (hit?.fingerprint === fingerprint) return hit.chain;
    const chain = this.chain(members());
    if (this.chains.size > 64) this.chains.clear();
    this.chains.set(key, { fingerprint, chain });
    return chain;
  }

  private chain(members: Trial[]): Chain {
    const alive: Set<number>[] = [new Set(members.map((t) => t.number))];
    const complete: boolean[] = [];
    const metric = this.objective.name;
    for (let i = 0; i < this.ladder.length; i++) {
      const rung = this.ladder[i];
      const inRung = i === 0 ? members : members.filter((t) => alive[i].has(t.number));
      // Complete when the cohort is whole and every member alive here reported the rung or finished.
      let done = i > 0 || members.length >= this.cohortSize;
      for (let k = 0; done && k < inRung.length; k++) {
        const t = inRung[k];
        if (Number.isNaN(rungMetric(t, rung, metric)) && !isFinished(t)) done = false;
      }
      complete.push(done);
      if (!done) break;
      const scored: { number: number; loss: number }[] = [];
      for (const t of inRung) {
        const v = rungMetric(t, rung, metric);
        if (!Number.isNaN(v)) scored.push({ number: t.number, loss: asLoss(this.objective, v) });
      }
      scored.sort((a, b) => a.loss - b.loss || a.number - b.number);
      const keep = scored.length === 0 ? 0 : Math.max(1, Math.floor(scored.length / this.rungs.eta + 1e-9));
      alive.push(new Set(scored.slice(0, keep).map((s) => s.number)));
    }
    return { alive, complete };
  }

}
