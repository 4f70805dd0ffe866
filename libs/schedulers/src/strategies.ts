import { UserError, noScheduler, type Objective, type Sampler, type Scheduler } from '@segtune/core';
import { createSampler } from '@segtune/samplers';
import type { Budget, StrategySpec } from '@segtune/space';
import { createSchedulerAndSampler } from './registry';

export interface StrategyInput {
  /** The `sampler:` and `scheduler:` blocks of a space file (or of a stored study). */
  sampler?: StrategySpec;
  scheduler?: StrategySpec;
  objectives: readonly Objective[];
  budget?: Budget;
}

/** `--sampler KIND` / `--scheduler KIND`: a kind only, options come from the space file. */
export interface StrategyOverrides {
  sampler?: string;
  scheduler?: string;
}

export interface Strategies {
  sampler: Sampler;
  scheduler: Scheduler;
  /** What was built, options included: the blocks a new study stores. */
  samplerSpec: StrategySpec;
  schedulerSpec?: StrategySpec;
  /** One line each, for the user: options of the space file a flag set aside. */
  warnings: string[];
}

/** The default sampler: NSGA-II for several objectives, TPE for one. */
export function defaultSamplerKind(objectives: readonly Objective[]): string {
  return objectives.length > 1 ? 'nsga2' : 'tpe';
}

function optionNames(spec: StrategySpec | undefined): string[] {
  return spec ? Object.keys(spec).filter((k) => k !== 'kind') : [];
}

/**
 * A flag's kind over the file's block: the same kind keeps the file's options (`{ kind: tpe,
 * gamma: 0.1 }` with `--sampler tpe` is that TPE); another kind sets them aside, with a warning.
 */
function override(role: 'sampler' | 'scheduler', fromFile: StrategySpec | undefined, flag: string | undefined, warnings: string[]): StrategySpec | undefined {
  if (!flag) return fromFile;
  if (fromFile?.kind === flag) return fromFile;
  const dropped = optionNames(fromFile);
  if (fromFile && dropped.length) warnings.push(`--${role} ${flag}: the space file's ${role} options (${fromFile.kind}: ${dropped.join(', ')}) were not used`);
  return { kind: flag };
}

/**
 * The one factory for a study's sampler and scheduler, from a space file's blocks (or a stored
 * study's) and the command line's kinds: every caller (search, worker, the library API, the
 * simulator benchmarks) builds strategies here, so promotion mode, BOHB's model sampler and
 * option handling cannot differ between them.
 */
export function createStrategies(input: StrategyInput, overrides: StrategyOverrides = {}): Strategies {
  const warnings: string[] = [];
  const schedulerSpec = override('scheduler', input.scheduler, overrides.scheduler, warnings);
  const samplerSpec = override('sampler', input.sampler, overrides.sampler, warnings);
  const kind = schedulerSpec?.kind ?? 'none';
  if (kind !== 'none' && !input.budget) {
    throw new UserError(`scheduler "${kind}" needs a "budget" block in the space file (e.g. budget: { name: epochs, min: 1, max: 9 })`);
  }
  if (kind === 'bohb' && samplerSpec) {
    // BOHB is Hyperband plus its own model sampler: another sampler would silently replace the model.
    throw new UserError(
      `${overrides.sampler ? `--sampler ${overrides.sampler}` : `sampler "${samplerSpec.kind}"`}: scheduler "bohb" proposes configurations with its own model and takes no sampler; drop the sampler, or use scheduler "hyperband" with sampler "${samplerSpec.kind}"`,
    );
  }
  if (kind === 'none') {
    const spec = samplerSpec ?? { kind: defaultSamplerKind(input.objectives) };
    return { sampler: createSampler(spec), scheduler: noScheduler, samplerSpec: spec, schedulerSpec, warnings };
  }
  // BOHB brings its sampler; the base is built only when the scheduler uses it.
  const base = kind === 'bohb' ? undefined : createSampler(samplerSpec ?? { kind: defaultSamplerKind(input.objectives) });
  const { scheduler, sampler } = createSchedulerAndSampler(schedulerSpec, input.budget, input.objectives, base as Sampler);
  return { sampler, scheduler, samplerSpec: samplerSpec ?? { kind: base ? defaultSamplerKind(input.objectives) : 'bohb' }, schedulerSpec, warnings };
}
