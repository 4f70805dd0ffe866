import type { Params, Space } from '@segtune/space';
import type { Rng } from './rng';
import type { Constraint, Objective } from './objectives';
import type { Trial } from './trial';
import type { Budget } from '@segtune/space';

export interface SamplerContext {
  space: Space;
  objectives: readonly Objective[];
  constraints: readonly Constraint[];
  /** Finished trials (complete, pruned, failed), oldest first. Read-only snapshot. */
  history: readonly Trial[];
  /** Trials currently running (other workers' included), for constant-liar style handling. */
  running: readonly Trial[];
  /** Seeded for this trial: derived from the study seed and `trialNumber`. */
  rng: Rng;
  /** The number the suggested trial will get. */
  trialNumber: number;
  /** The fidelity resource, when the study has one (BOHB fits models per budget). */
  budget?: Budget;
  /** The study's seed, for samplers that keep a sequence (Sobol). */
  seed: number;
  /**
   * Prior observations (`--warm-start`): complete trials of earlier studies mapped into this
   * space, values in this study's objective order, numbered below 0. Samplers that use them
   * weight them below the study's own trials; others ignore them.
   */
  prior?: readonly Trial[];
}

/**
 * Suggests the next configuration. A pure function of the context: no hidden state that another
 * worker could not reproduce from the same storage.
 */
export interface Sampler {
  readonly name: string;
  suggest(ctx: SamplerContext): Params | Promise<Params>;
  /** False for samplers that ignore history (random, Sobol), so the study can skip syncing it. */
  readonly needsHistory?: boolean;
  /** True for samplers that use `SamplerContext.prior` (warm starts: TPE, GP, CMA-ES). */
  readonly usesPrior?: boolean;
  /** Called once with a warning a user should see (e.g. a GP falling back to random). */
  onWarning?: (message: string) => void;
}

export type SamplerFactory = (options: Record<string, unknown>) => Sampler;
