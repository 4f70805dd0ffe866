import { userInfo } from 'node:os';
import type { OutboxEvent } from '@segtune/core';
import { isMlflowError, type KeyValue, type MlflowClient, type MlflowRun } from './mlflow-client';
import { studyKey, type Attrs, type StudyRef, type TrialFinishedPayload, type TrialStartedPayload } from './mlflow-payloads';

/** What the tracker knows of one MLflow run. */
export interface RunState {
  runId: string;
  experimentId: string;
  artifactUri: string;
  /** Params MLflow already holds for the run (logged once; a changed value is an error). */
  params: Map<string, string>;
  /** mlflow key → original name, for names MLflow's key rules forced us to change. */
  keyMap: Record<string, string>;
}

/** A study's parent run and its trials' nested runs. */
export interface StudyState {
  experimentId: string;
  parent: RunState;
  children: Map<number, RunState>;
  /** A create-run whose answer was lost may have made a run: look again before creating. */
  childrenStale: boolean;
}

export interface MlflowRunsOptions {
  /** Experiment name; the study name by default. */
  experimentName?: string;
  /** See findOrCreateParent. Default 2000 ms. */
  parentSettleMs?: number;
  /** Runs created at once. Default 4. */
  concurrency?: number;
  /** The storage's description, tagged on the parent run. */
  storage: string;
  /** Sleeps without keeping the process alive. */
  sleep: (ms: number) => Promise<void>;
  /** Called when a study's runs become known. */
  onStudy?: (key: string) => void;
}

/**
 * Run bookkeeping: study → parent run, trial → nested run. Runs are never created twice: they are
 * looked up by tag first (`segtune.study_id` + `segtune.study_created` for the study's parent,
 * `mlflow.parentRunId` + `segtune.trial_number` for a trial's run), then created.
 */
export class MlflowRuns {
  private readonly experiments = new Map<string, string>();
  private readonly studies = new Map<string, StudyState>();

  constructor(
    private readonly client: MlflowClient,
    private readonly options: MlflowRunsOptions,
  ) {}

  /** The study's runs, once found or created. */
  get(key: string): StudyState | undefined {
    return this.studies.get(key);
  }

  /**
   * Finds or creates the runs of every study and trial in the events at once, before the events
   * are turned into batches: afterwards `study` and `trial` answer for each of them.
   */
  async prepare(events: OutboxEvent[]): Promise<void> {
    const wanted = new Map<string, { st: StudyState; ref: StudyRef; number: number; trialId?: number; ts: number; attrs: Attrs }>();
    for (const ev of events) {
      const p = ev.payload as Partial<TrialStartedPayload & TrialFinishedPayload>;
      if (!p.study || !(ev.kind.startsWith('trial-') || ev.kind === 'study-started' || ev.kind === 'study-finished')) continue;
      const st = await this.ensureStudy(p.study);
      if (p.number === undefined || !ev.kind.startsWith('trial-')) continue;
      const key = `${studyKey(p.study)}#${p.number}`;
      if (st.children.has(p.number) || wanted.has(key)) continue;
      wanted.set(key, { st, ref: p.study, number: p.number, trialId: p.trialId, ts: p.startedAt ?? p.ts ?? Date.now(), attrs: p.attrs ?? {} });
    }
    // A stale child list is reloaded once, not by every parallel creator.
    for (const st of new Set([...wanted.values()].map((w) => w.st))) {
      if (!st.childrenStale) continue;
      st.children = await this.loadChildren(st.experimentId, st.parent.runId);
      st.childrenStale = false;
    }
    await inParallel([...wanted.values()], Math.max(1, this.options.concurrency ?? 4), async (w) => {
      await this.ensureChild(w.st, w.ref, w.number, w.trialId, w.ts, w.attrs);
    });
  }

  /** A prepared study's runs. */
  study(ref: StudyRef): StudyState {
    const st = this.studies.get(studyKey(ref));
    if (!st) throw new Error(`MLflow runs of study ${ref.name} were not prepared`);
    return st;
  }

  /** A prepared trial's run. */
  trial(ref: StudyRef, number: number): RunState {
    const run = this.study(ref).children.get(number);
    if (!run) throw new Error(`MLflow run of trial ${number} (study ${ref.name}) was not prepared`);
    return run;
  }

  private async ensureStudy(ref: StudyRef): Promise<StudyState> {
    const key = studyKey(ref);
    const known = this.studies.get(key);
    if (known) return known;
    const expName = this.options.experimentName ?? ref.name;
    let experimentId = this.experiments.get(expName);
    if (!experimentId) {
      experimentId = await this.client.getOrCreateExperiment(expName);
      this.experiments.set(expName, experimentId);
    }
    const parent = await this.findOrCreateParent(experimentId, ref);
    const children = await this.loadChildren(experimentId, parent.runId);
    const st: StudyState = { experimentId, parent: runState(parent), children, childrenStale: false };
    this.studies.set(key, st);
    this.options.onStudy?.(key);
    return st;
  }

  /**
   * The study's parent run. Several workers may look for it at once, and MLflow has no
   * create-if-absent for runs, so every process settles on the same one by a rule that does not
   * depend on who looked when: the parent is the active candidate with the earliest start time
   * (then run id), judged only once `settleMs` have passed since that start time. A creator
   * whose own create took longer than half of that withdraws its run and looks again, so every
   * surviving candidate was visible within `settleMs` of its start; losers delete their own run.
   * (Across machines, clocks must agree to well within `settleMs`.)
   */
  private async findOrCreateParent(experimentId: string, ref: StudyRef): Promise<MlflowRun> {
    const settleMs = this.options.parentSettleMs ?? 2000;
    const filter = `tags.\`segtune.kind\` = 'study' and tags.\`segtune.study_id\` = '${ref.id}' and tags.\`segtune.study_created\` = '${ref.createdAt}'`;
    const search = () => this.client.searchAllRuns({ experimentIds: [experimentId], filter });
    for (let attempt = 0; ; attempt++) {
      const found = await search();
      if (found.length) {
        const earliest = pickParent(found);
        const wait = (earliest.startTime ?? 0) + settleMs - Date.now();
        if (wait <= 0) return earliest;
        await this.options.sleep(wait);
        const again = await search();
        return pickParent(again.length ? again : found);
      }
      const tags: KeyValue[] = [
        { key: 'segtune.kind', value: 'study' },
        { key: 'segtune.study', value: ref.name },
        { key: 'segtune.study_id', value: String(ref.id) },
        { key: 'segtune.study_created', value: String(ref.createdAt) },
        { key: 'segtune.storage', value: this.options.storage },
        { key: 'mlflow.source.name', value: 'segtune' },
        { key: 'mlflow.source.type', value: 'LOCAL' },
        { key: 'mlflow.user', value: currentUser() },
      ];
      const startTime = Date.now();
      const created = await this.client.createRun({ experimentId, runName: ref.name, startTime, tags });
      if (Date.now() - startTime > settleMs / 2 && attempt < 3) {
        // Others may already have settled without seeing this run: withdraw it.
        await this.client.deleteRun(created.runId);
        continue;
      }
      await this.options.sleep(startTime + settleMs - Date.now());
      const all = await search();
      const winner = pickParent(all.length ? all : [created]);
      if (winner.runId !== created.runId) await this.client.deleteRun(created.runId);
      return winner;
    }
  }

  private async loadChildren(experimentId: string, parentRunId: string): Promise<Map<number, RunState>> {
    const runs = await this.client.searchAllRuns({ experimentIds: [experimentId], filter: `tags.\`mlflow.parentRunId\` = '${parentRunId}'` });
    const out = new Map<number, RunState>();
    for (const r of runs.sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0) || a.runId.localeCompare(b.runId))) {
      const n = Number(r.tags['segtune.trial_number']);
      if (Number.isInteger(n) && !out.has(n)) out.set(n, runState(r));
    }
    return out;
  }

  // (Never reloads the child list: creators run in parallel, and a reload could drop a sibling's
  // fresh run; prepare reloads a stale list once before they start.)
  private async ensureChild(st: StudyState, ref: StudyRef, number: number, trialId: number | undefined, startTime: number, attrs: Attrs): Promise<RunState> {
    let run = st.children.get(number);
    if (run) return run;
    const tags: KeyValue[] = [
      { key: 'mlflow.parentRunId', value: st.parent.runId },
      { key: 'segtune.kind', value: 'trial' },
      { key: 'segtune.study', value: ref.name },
      { key: 'segtune.study_id', value: String(ref.id) },
      { key: 'segtune.trial_number', value: String(number) },
      { key: 'segtune.state', value: 'running' },
      { key: 'mlflow.source.name', value: 'segtune' },
      { key: 'mlflow.user', value: currentUser() },
    ];
    if (trialId !== undefined) tags.push({ key: 'segtune.trial_id', value: String(trialId) });
    if (attrs.worker !== undefined && attrs.worker !== null) tags.push({ key: 'segtune.worker', value: String(attrs.worker) });
    try {
      const created = await this.client.createRun({ experimentId: st.experimentId, runName: trialRunName(number), startTime, tags });
      run = runState(created);
    } catch (e) {
      // The run may exist although the answer was lost.
      if (!isMlflowError(e) || e.retryable) st.childrenStale = true;
      throw e;
    }
    st.children.set(number, run);
    return run;
  }
}

/** `trial-0007`: readable and sorting in trial order up to 9,999 trials. */
export function trialRunName(number: number): string {
  return `trial-${String(number).padStart(4, '0')}`;
}

export function runState(r: MlflowRun): RunState {
  let keyMap: Record<string, string> = {};
  try {
    if (r.tags['segtune.key_map']) keyMap = JSON.parse(r.tags['segtune.key_map']) as Record<string, string>;
  } catch {
    // A hand-edited tag: start a fresh map.
  }
  return { runId: r.runId, experimentId: r.experimentId, artifactUri: r.artifactUri, params: new Map(Object.entries(r.params)), keyMap };
}

function pickParent(runs: MlflowRun[]): MlflowRun {
  return [...runs].sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0) || a.runId.localeCompare(b.runId))[0];
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Runs `fn` over `items` with at most `limit` at once; rejects with the first error once all settled. */
export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
