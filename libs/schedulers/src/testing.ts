import type { Decision, MetricValues, Objective, Scheduler, Trial, TrialState } from '@segtune/core';
import type { Budget } from '@segtune/space';

/** An in-memory history of fabricated trials, as a storage would return them (tests only). */
export class FakeHistory {
  readonly trials: Trial[] = [];
  private change = 0;

  constructor(
    readonly objectives: Objective[] = [{ name: 'acc', direction: 'maximize' }],
    readonly budget: Budget = { name: 'epochs', min: 1, max: 9 },
  ) {}

  add(number = this.trials.length, params: Trial['params'] = { x: number }): Trial {
    const t: Trial = { id: number + 1, studyId: 1, number, state: 'running', params, intermediate: {}, attrs: {}, createdAt: 0, seq: ++this.change };
    this.trials.push(t);
    this.trials.sort((a, b) => a.number - b.number);
    return t;
  }

  get(number: number): Trial {
    const t = this.trials.find((x) => x.number === number);
    if (!t) throw new Error(`no trial ${number}`);
    return t;
  }

  /** Stores a report and asks the scheduler, as Study.report does. */
  report(s: Scheduler, number: number, step: number, values: MetricValues | number): Decision {
    const t = this.trials.find((x) => x.number === number) ?? this.add(number);
    const v = typeof values === 'number' ? { [this.objectives[0].name]: values } : values;
    t.intermediate = { ...t.intermediate, [step]: v };
    t.seq = ++this.change;
    const d = s.decide({ trial: t, step, values: v, history: this.trials, objectives: this.objectives, budget: this.budget });
    if (d === 'stop') this.finish(number, 'pruned');
    return d;
  }

  finish(number: number, state: TrialState): void {
    const t = this.get(number);
    t.state = state;
    t.seq = ++this.change;
  }
}
