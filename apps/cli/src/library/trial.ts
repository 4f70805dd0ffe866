// One trial of a library study, define-by-run: the objective asks for each param where it needs
// it (Optuna's trial.suggest_*). Values come from the sampler's relative proposal for params the
// study already knows (drawn at ask time over the union of params seen so far); a param first
// seen in this trial is sampled on its own, like Optuna's independent sampling.
import { Pruned, Rng, type Sampler, type Trial as CoreTrial, type Study as CoreStudy, type MetricValues } from '@segtune/core';
import { Space, decodeValue, valueProblem, type ParamDef, type ParamValue, type Params } from '@segtune/space';
import { checkDefinition, describe, DistributionRegistry, type Choice } from './distributions';
import { UsageError } from './errors';

export interface SuggestFloatOptions {
  /** Sample on a log scale (low must be > 0). */
  log?: boolean;
  /** Only multiples of step above low. */
  step?: number;
}

export interface SuggestIntOptions {
  log?: boolean;
  step?: number;
}

/** Context a trial needs from its study (internal). */
export interface TrialHost {
  readonly core: CoreStudy;
  readonly registry: DistributionRegistry;
  readonly sampler: Sampler;
  readonly seed: number;
  /** Whether params come only from a space file (no new names allowed). */
  readonly fixedSpace: boolean;
  history(): readonly CoreTrial[];
  /** Called once for each param the study has never seen. */
  onNewParam(p: ParamDef): void;
}

export class Trial {
  /** Dense per study, from 0. */
  readonly number: number;
  /** Storage-wide id. */
  readonly id: number;
  private readonly used: Params = {};
  private stored = '';
  private finished = false;
  /** Params given by enqueueTrial for this trial. */
  private readonly fixed: Set<string>;

  /** @internal */
  constructor(
    private readonly host: TrialHost,
    /** @internal */ readonly core: CoreTrial,
    private readonly proposal: Params,
  ) {
    this.number = core.number;
    this.id = core.id;
    const fixed = core.attrs.fixed_params;
    this.fixed = new Set(Array.isArray(fixed) ? fixed.map(String) : core.attrs.enqueued ? Object.keys(proposal) : []);
  }

  /** The params this trial asked for so far (for a study made from a space file: all of them). */
  get params(): Params {
    return this.host.fixedSpace ? { ...this.proposal, ...this.used } : { ...this.used };
  }

  get isFinished(): boolean {
    return this.finished;
  }

  suggestFloat(name: string, low: number, high: number, options: SuggestFloatOptions = {}): number {
    return this.suggest({ name, type: 'float', low, high, ...defined(options) }) as number;
  }

  suggestInt(name: string, low: number, high: number, options: SuggestIntOptions = {}): number {
    return this.suggest({ name, type: 'int', low, high, ...defined(options) }) as number;
  }

  suggestCategorical<const T extends readonly Choice[]>(name: string, choices: T): T[number] {
    return this.suggest({ name, type: 'categorical', choices: [...choices] }) as T[number];
  }

  /**
   * Stores an intermediate value and asks the scheduler whether the trial goes on; throws the
   * pruned signal (core's `Pruned`) when it says stop. Let it escape the objective, or catch it
   * and return: `optimize` ends the trial as pruned either way.
   */
  async report(step: number, value: number | MetricValues): Promise<void> {
    if (this.finished) throw new UsageError(`trial ${this.number}: report after the trial was told`);
    if (!Number.isFinite(step)) throw new UsageError(`trial ${this.number}: report step must be a finite number, got ${step}`);
    await this.flushParams();
    const values = typeof value === 'number' ? { [this.host.core.objectiveNames[0]]: value } : value;
    const decision = await this.host.core.report(this.core, step, values);
    if (decision === 'stop') throw new Pruned(step);
  }

  /** Stores the params asked so far (before a report or the end, so storage shows them). @internal */
  async flushParams(): Promise<void> {
    const params = this.host.fixedSpace ? this.params : this.host.registry.space().ordered(this.used);
    const text = JSON.stringify(params);
    if (text === this.stored) return;
    await this.host.core.storage.setTrialParams(this.core.id, params);
    this.core.params = params;
    this.stored = text;
  }

  /** @internal */
  markFinished(): void {
    this.finished = true;
  }

  private suggest(def: ParamDef): ParamValue {
    if (this.finished) throw new UsageError(`trial ${this.number}: suggest after the trial was told`);
    checkDefinition(def);
    if (this.host.fixedSpace && !this.host.registry.get(def.name)) {
      const known = this.host.registry.space().names;
      throw new UsageError(`params.${def.name}: not in the study's space file; known params: ${known.join(', ')}`);
    }
    if (this.host.registry.register(def)) this.host.onNewParam(def);
    if (def.name in this.used) return this.used[def.name];
    const p = this.host.registry.get(def.name)!;
    const proposed = this.proposal[def.name];
    const problem = proposed === undefined ? undefined : valueProblem(p, proposed);
    // An enqueued value (enqueueTrial) is used as given, or the mismatch is the user's to fix.
    if (problem && this.fixed.has(def.name)) throw new UsageError(`params.${def.name}: the enqueued value ${JSON.stringify(proposed)} does not fit ${describe(p)}: ${problem}`);
    const value = proposed !== undefined && problem === undefined ? proposed : this.independent(p);
    this.used[def.name] = value;
    return value;
  }

  /** A value for a param the relative proposal did not cover: the sampler over that one param. */
  private independent(p: ParamDef): ParamValue {
    const rng = Rng.derive(this.host.seed, 'independent', this.number, p.name);
    const core = this.host.core;
    try {
      const out = this.host.sampler.suggest({
        space: new Space([p]),
        objectives: core.objectives,
        constraints: core.constraints,
        history: this.host.history(),
        running: [],
        rng,
        trialNumber: this.number,
        budget: core.budget,
        seed: this.host.seed,
      });
      // Samplers that answer asynchronously (a GP fit) cannot serve a synchronous suggest:
      // those params are drawn uniformly, as Optuna's GP does for independent params.
      if (!(out instanceof Promise) && out[p.name] !== undefined && valueProblem(p, out[p.name]) === undefined) return out[p.name];
      if (out instanceof Promise) out.catch(() => undefined);
    } catch {
      // A sampler that cannot handle a one-param space falls back to uniform sampling.
    }
    return decodeValue(p, rng.random());
  }
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
