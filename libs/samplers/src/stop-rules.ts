import { isFeasible, toLosses, UserError, type Objective, type StopRule, type StopRuleContext, type Trial } from '@segtune/core';
import { defaultReferencePoint, hypervolume } from '@segtune/pareto';
import { RegretBoundRule } from './regret-bound';

/** Loss vectors of the complete feasible trials, in trial order. */
export function feasibleLosses(ctx: Pick<StopRuleContext, 'objectives' | 'constraints' | 'trials'>): number[][] {
  const out: number[][] = [];
  const sorted = [...ctx.trials].sort((a: Trial, b: Trial) => a.number - b.number);
  for (const t of sorted) {
    if (t.state !== 'complete' || !t.values || t.values.length !== ctx.objectives.length) continue;
    if (ctx.constraints.length && !isFeasible(ctx.constraints, t)) continue;
    out.push(toLosses(ctx.objectives, t.values));
  }
  return out;
}

/**
 * `patience:N`: stop once the last N complete (feasible) trials did not improve the best value,
 * or, with several objectives, the hypervolume of the front (against a reference point from all
 * trials so far, the same for both fronts compared). Optuna's BestValueStagnationEvaluator,
 * extended to fronts.
 */
export class PatienceRule implements StopRule {
  readonly name: string;
  constructor(readonly patience: number) {
    this.name = `patience:${patience}`;
  }

  check(ctx: StopRuleContext): string | undefined {
    const losses = feasibleLosses(ctx);
    const n = losses.length;
    if (n <= this.patience) return undefined;
    const before = losses.slice(0, n - this.patience);
    if (ctx.objectives.length === 1) {
      const best = Math.min(...before.map((l) => l[0]));
      const now = Math.min(...losses.map((l) => l[0]));
      if (now < best) return undefined;
      return `no improvement of the best ${ctx.objectives[0].name} in the last ${this.patience} complete trials`;
    }
    const ref = defaultReferencePoint(losses);
    const hvBefore = hypervolume(before, ref);
    const hvNow = hypervolume(losses, ref);
    if (hvNow > hvBefore * (1 + 1e-12)) return undefined;
    return `no improvement of the hypervolume in the last ${this.patience} complete trials`;
  }
}

const RULES = 'patience:N (stop after N complete trials without improvement) or regret:auto / regret:THRESHOLD (stop once the GP regret bound falls below the noise estimate or THRESHOLD)';

/** `--stop-when` texts to rules; one-line UserErrors for anything malformed or unfit for the objectives. */
export function parseStopRules(texts: readonly string[], objectives: readonly Objective[]): StopRule[] {
  return texts.map((text) => {
    const [kind, arg, ...rest] = text.trim().split(':');
    if (rest.length === 0 && kind === 'patience' && arg !== undefined && /^\d+$/.test(arg) && Number(arg) >= 1) return new PatienceRule(Number(arg));
    if (rest.length === 0 && kind === 'regret' && arg !== undefined) {
      if (objectives.length !== 1) throw new UserError(`--stop-when ${text}: the regret bound is for one objective; this study has ${objectives.length} (use patience:N, which watches the hypervolume)`);
      if (arg === 'auto') return new RegretBoundRule('auto');
      const t = Number(arg);
      if (arg !== '' && Number.isFinite(t) && t > 0) return new RegretBoundRule(t);
    }
    throw new UserError(`--stop-when: "${text}" is not a rule; expected ${RULES}`);
  });
}
