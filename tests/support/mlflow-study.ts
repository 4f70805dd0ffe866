// Drives a small real study (Study + runController + RandomSampler over a parsed space) for the
// MLflow tests and the tracking benchmark. The executor runs a simulated training curve inline:
// an in-test executor, so that these tests depend on nothing but core, space and samplers.
import { bestTrials, runController, Study, type Executor, type RunOptions, type Storage, type Tracker, type Trial, type TrialOutcome, type TrialTask } from '@segtune/core';
import { RandomSampler } from '@segtune/samplers';
import { parseSpace, type LoadedSpace } from '@segtune/space';

/**
 * A space with every param kind. (Param names follow segtune's name rule, which MLflow's key
 * rules accept as they are; the key mapping for metric names is tested in mlflow-keys.test.ts.)
 */
export const SPACE_YAML = `name: mlflow-demo
objectives:
  - { name: miou, direction: maximize }
params:
  lr: { type: float, low: 0.0001, high: 0.1, log: true }
  width: { type: int, low: 8, high: 64, step: 8 }
  optimizer: { type: categorical, choices: [adam, sgd] }
  batch_size: { type: int, low: 2, high: 16 }
sampler: { kind: random }
workload: { kind: simulator }
`;

export function demoSpace(): LoadedSpace {
  return parseSpace(SPACE_YAML, 'mlflow-demo.yaml');
}

/**
 * Runs each trial inline: `epochs` reports of `loss` and `miou` (a deterministic curve of the
 * params), `stepDelayMs` of real time between them, then the final metrics.
 */
export class CurveExecutor implements Executor {
  readonly capacity: number;

  constructor(private readonly options: { epochs: number; stepDelayMs?: number; capacity?: number; failTrials?: number[]; beforeTrial?: (trialNumber: number) => Promise<void> | void }) {
    this.capacity = options.capacity ?? 1;
  }

  async run(task: TrialTask, run: RunOptions): Promise<TrialOutcome> {
    await this.options.beforeTrial?.(task.trialNumber);
    run.onStart?.({ gpu: null, backend: 'cpu' });
    const lr = Number(task.params.lr);
    const width = Number(task.params.width);
    const quality = 1 / (1 + Math.abs(Math.log10(lr) + 2.5)) * (0.5 + width / 128);
    let miou = 0;
    for (let step = 0; step < this.options.epochs; step++) {
      if (this.options.stepDelayMs) await new Promise((r) => setTimeout(r, this.options.stepDelayMs));
      miou = quality * (1 - Math.exp(-(step + 1) / 2));
      const decision = await run.onReport(step, { miou, loss: 1 - miou });
      if (decision === 'stop') return { state: 'pruned', step, attrs: {} };
      // A trial told to fail does so after its second report, as an out-of-memory crash would.
      if (step === 1 && this.options.failTrials?.includes(task.trialNumber)) return { state: 'failed', reason: 'oom', error: 'out of memory at batch 3', attrs: { gpu: null, backend: 'cpu' } };
    }
    return { state: 'complete', metrics: { miou, loss: 1 - miou, params_k: width * 3 }, attrs: { backend: 'cpu', gpu: null } };
  }

  async close(): Promise<void> {}
}

export interface DemoStudyOptions {
  storage: Storage;
  name: string;
  trials: number;
  epochs: number;
  trackers?: Tracker[];
  stepDelayMs?: number;
  seed?: number;
  failTrials?: number[];
  /** Run as an extra worker of an existing study (no study-started / study-finished events). */
  join?: boolean;
  worker?: string;
  onTrialFinished?(trial: Trial): void;
  /** Awaited before each trial's workload runs: a test blocks a trial on an outside event with it. */
  beforeTrial?(trialNumber: number): Promise<void> | void;
}

/** Creates the study, emits study-started, runs it, emits study-finished. */
export async function runDemoStudy(o: DemoStudyOptions): Promise<{ study: Study; finished: Trial[]; elapsedMs: number }> {
  const loaded = demoSpace();
  const record = o.join
    ? (await o.storage.getStudy(o.name))!
    : await o.storage.createStudy({
        name: o.name,
        objectives: loaded.spec.objectives,
        sampler: loaded.spec.sampler,
        seed: o.seed ?? 7,
        spaceSource: loaded.source,
        limits: { trials: o.trials },
      });
  const study = new Study({ storage: o.storage, record, space: loaded.space, sampler: new RandomSampler(), trackers: o.trackers, worker: o.worker ?? 'test' });
  if (!o.join) study.emit({ kind: 'study-started', study: record, spaceFile: 'mlflow-demo.yaml' });
  const result = await runController({
    study,
    executor: new CurveExecutor({ epochs: o.epochs, stepDelayMs: o.stepDelayMs, failTrials: o.failTrials, beforeTrial: o.beforeTrial?.bind(o) }),
    workload: loaded.spec.workload,
    spaceDir: '.',
    maxTrials: o.trials,
    concurrency: 1,
    onTrialFinished: o.onTrialFinished,
  });
  if (!o.join) {
    const all = await study.trials();
    study.emit({ kind: 'study-finished', study: record, best: bestTrials(study.objectives, all) });
  }
  return { study, finished: result.finished, elapsedMs: result.elapsedMs };
}
