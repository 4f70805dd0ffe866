import type { Suggestion, Trial } from '@segtune/core';
import type { Params } from '@segtune/space';
import type { AshaScheduler, RungUnit } from './asha';

/**
 * Promotion-style ASHA (the paper's original form), for workloads that checkpoint. The scheduler
 * (mode `promotion`) lets a trial go on at a rung only when it is in the top 1/η right away, and
 * otherwise stops it: the trial ends `pruned`, its checkpoint kept. At the next ask, before any
 * new configuration, the scheduler answers with the paused configuration that has since entered
 * the top 1/η of the highest rung it can be promoted from: the new trial runs the same params
 * and its workload gets `ctx.resumeFrom` (the paused trial's folder and step), loads that
 * checkpoint and reports the steps after it.
 *
 * Everything is read from stored trials (configurations are matched by their params), so any
 * worker promotes the same configuration. Two workers asking at the same instant may promote the
 * same configuration twice; the second run just repeats work.
 */
export function promotionSuggestion(scheduler: AshaScheduler, trials: readonly Trial[]): Suggestion | undefined {
  const unit = promotableUnit(scheduler, trials);
  if (!unit) return undefined;
  const last = unit.trials[unit.trials.length - 1];
  return { params: unit.trials[0].params, resume: { trialNumber: last.number, step: maxStep(unit), rootTrialNumber: unit.number } };
}

/** The params of the configuration to promote next, if any (highest rung first). */
export function promotable(scheduler: AshaScheduler, trials: readonly Trial[]): Params | undefined {
  return promotableUnit(scheduler, trials)?.trials[0].params;
}

function promotableUnit(scheduler: AshaScheduler, trials: readonly Trial[]): RungUnit | undefined {
  const units = [...scheduler.units(trials.filter((t) => Object.keys(t.params).length > 0)).values()];
  const rungs: { rung: number; next: number; bracket: number }[] = [];
  scheduler.ladders.forEach((ladder, bracket) =>
    ladder.forEach((rung, i) => rungs.push({ rung, next: ladder[i + 1] ?? scheduler.rungs.budget.max, bracket })),
  );
  rungs.sort((a, b) => b.rung - a.rung || a.bracket - b.bracket);
  for (const { rung, next, bracket } of rungs) {
    const inBracket = units.filter((u) => scheduler.bracketFor(u.number) === bracket);
    const ordered = scheduler.order(scheduler.entriesAt(inBracket, rung));
    const top = ordered.slice(0, Math.floor(ordered.length / scheduler.eta + 1e-9));
    const pick = top.find((e) => paused(e.unit) && maxStep(e.unit) < next - 1e-9);
    if (pick) return pick.unit;
  }
  return undefined;
}

function paused(u: RungUnit): boolean {
  if (u.trials.some((t) => t.state === 'running' || t.state === 'waiting')) return false;
  return u.trials[u.trials.length - 1].state === 'pruned';
}

function maxStep(u: RungUnit): number {
  return Math.max(...Object.keys(u.intermediate).map(Number));
}
