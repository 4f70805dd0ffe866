// One study's trials kept in memory and synced incrementally: each sync asks the storage only for
// trials changed since the newest change seen (`getTrials({ sinceSeq })`), so a study of 10,000
// trials costs one indexed query per poll. Derived views are rebuilt only when something changed,
// and each trial's JSON is cached on its own so that a change re-serialises only that trial.
import { UserError, trialDocument, type Storage, type StudyRecord, type Trial } from '@segtune/core';
import type { ParamDef } from '@segtune/space';
import { IMPORTANCE_METHODS, type ImportanceMethod } from '@segtune/importance';
import type { PickedDocument, StudySummary, TrialPageData } from './page-data';
import {
  countStates,
  defaultRules,
  exportYaml,
  history,
  importanceView,
  intermediateCurve,
  parallel,
  paramAxes,
  pareto,
  pickDocument,
  pickOrError,
  spaceParams,
  studyPoints,
  studySummary,
  trialRow,
  type StudyPoint,
} from './study-view';

interface Derived {
  json: string;
  points: StudyPoint[];
  picks: Map<string, PickedDocument | UserError>;
  /** Importance panels by "method target", built when first asked for. */
  importance: Map<string, string>;
}

export class StudyCache {
  /** Indexed by trial number (numbers are dense per study). */
  private readonly trials: (Trial | undefined)[] = [];
  private readonly rowJson: (string | undefined)[] = [];
  private readonly curveJson: (string | null | undefined)[] = [];
  /** The metric names each trial's curve holds (cached with its JSON). */
  private readonly curveMetrics: string[][] = [];
  private readonly declared: ParamDef[];
  private version = 0;
  private derived: Derived | undefined;
  private syncing: Promise<number[]> | undefined;

  constructor(
    private readonly storage: Storage,
    readonly record: StudyRecord,
  ) {
    this.declared = spaceParams(record);
  }

  /** The newest trial change seen (the storage's `seq`). */
  get seq(): number {
    return this.version;
  }

  /** Pulls changed trials; resolves to their numbers (empty when nothing changed). Concurrent calls share one query. */
  sync(): Promise<number[]> {
    this.syncing ??= this.pull().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async pull(): Promise<number[]> {
    const changed = await this.storage.getTrials(this.record.id, { sinceSeq: this.version });
    if (changed.length === 0) return [];
    for (const t of changed) {
      this.trials[t.number] = t;
      this.rowJson[t.number] = undefined;
      this.curveJson[t.number] = undefined;
      if (t.seq > this.version) this.version = t.seq;
    }
    this.derived = undefined;
    return changed.map((t) => t.number);
  }

  /** Numbers of the trials changed after change counter `seq`, ascending. */
  changedSince(seq: number): number[] {
    const out: number[] = [];
    for (const t of this.trials) if (t && t.seq > seq) out.push(t.number);
    return out;
  }

  summary(): StudySummary {
    return studySummary(this.record, countStates(this.trials), this.version);
  }

  /** The study page's data as JSON text; `pick` adds that rule's result (a bad rule throws UserError). */
  pageJson(pick?: string): string {
    const d = (this.derived ??= this.build());
    if (pick === undefined || pick.trim() === '') return d.json;
    return `${d.json.slice(0, -1)},"pick":${JSON.stringify(this.pick(pick))}}`;
  }

  /** One rule's result, cached until the next change; throws the rule's UserError. */
  pick(rule: string): PickedDocument {
    const d = (this.derived ??= this.build());
    const key = rule.trim();
    let r = d.picks.get(key);
    if (r === undefined) {
      try {
        r = pickDocument(this.record, d.points, key);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        r = e;
      }
      if (d.picks.size > 64) d.picks.clear();
      d.picks.set(key, r);
    }
    if (r instanceof UserError) throw r;
    return r;
  }

  /** The importance panel's data as JSON, cached until the next change; a bad target or method throws UserError. */
  importanceJson(target: string | undefined, method: string | undefined): string {
    const d = (this.derived ??= this.build());
    const m = method ?? 'ped-anova';
    if (!(IMPORTANCE_METHODS as readonly string[]).includes(m)) throw new UserError(`importance: method "${m}" is not allowed; allowed: ${IMPORTANCE_METHODS.join(', ')}`);
    const key = `${m} ${target ?? ''}`;
    let json = d.importance.get(key);
    if (json === undefined) {
      json = JSON.stringify(importanceView(this.record, this.declared, this.trials, target, m as ImportanceMethod));
      if (d.importance.size > 16) d.importance.clear();
      d.importance.set(key, json);
    }
    return json;
  }

  trialPage(number: number): TrialPageData | undefined {
    const t = this.trials[number];
    if (!t) return undefined;
    return { study: this.record.name, trial: trialDocument(this.record, t), export_yaml: exportYaml(this.record, t) };
  }

  get trialNumbers(): number {
    return this.trials.length;
  }

  private build(): Derived {
    const record = this.record;
    const rows: string[] = [];
    const curves: string[] = [];
    const present: Trial[] = [];
    const reported = new Set<string>();
    for (let n = 0; n < this.trials.length; n++) {
      const t = this.trials[n];
      if (!t) continue;
      present.push(t);
      rows.push((this.rowJson[n] ??= JSON.stringify(trialRow(record, t))));
      let c = this.curveJson[n];
      if (c === undefined) {
        const curve = intermediateCurve(t);
        c = this.curveJson[n] = curve ? JSON.stringify(curve) : null;
        this.curveMetrics[n] = curve ? Object.keys(curve.values) : [];
      }
      if (c !== null) {
        curves.push(c);
        for (const m of this.curveMetrics[n]) reported.add(m);
      }
    }
    const objectiveNames = record.objectives.map((o) => o.name);
    const metrics = [...objectiveNames.filter((m) => reported.has(m)), ...[...reported].filter((m) => !objectiveNames.includes(m)).sort()];
    const axes = paramAxes(this.declared, present);
    const points = studyPoints(record, this.trials);
    const picks = new Map<string, PickedDocument | UserError>();
    const standard = defaultRules(record.objectives).map((rule) => {
      const p = pickOrError(record, points, rule);
      if (!('error' in p)) picks.set(rule, p);
      return p;
    });
    const json =
      `{"study":${JSON.stringify(this.summary())}` +
      `,"params":${JSON.stringify(axes)}` +
      `,"trials":[${rows.join(',')}]` +
      `,"history":${JSON.stringify(history(record, this.trials))}` +
      `,"intermediate":{"metrics":${JSON.stringify(metrics)},"curves":[${curves.join(',')}]}` +
      `,"parallel":${JSON.stringify(parallel(record, axes, this.trials))}` +
      `,"pareto":${JSON.stringify(pareto(record, points))}` +
      `,"picks":${JSON.stringify(standard)}}`;
    return { json, points, picks, importance: new Map() };
  }
}
