import { setTimeout as wait } from 'node:timers/promises';
import { splitBatch } from './mlflow-batches';
import { MAX_TAG_VALUE_LENGTH, truncateValue } from './mlflow-keys';

// A small typed client for MLflow's REST API 2.0 on Node's fetch. Written here because no
// maintained npm package exists (`mlflow-client-ts` does not exist, `mlflow` is abandoned).

export interface MlflowExperiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
}

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowMetric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface MlflowRun {
  runId: string;
  experimentId: string;
  runName: string;
  status: RunStatus;
  startTime?: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: string;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

export interface LogBatch {
  metrics?: MlflowMetric[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

export interface SearchRunsOptions {
  experimentIds: string[];
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
  /** ACTIVE_ONLY by default. */
  viewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
}

export interface MlflowClientOptions {
  /** The tracking server, e.g. http://127.0.0.1:5000. */
  uri: string;
  /** Retries after a network error, 429 or 5xx (each request tries 1 + retries times). Default 3. */
  retries?: number;
  /** First back-off delay; doubles each retry, with jitter. Default 250 ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request time limit. Default 30 s. */
  timeoutMs?: number;
  /** Extra headers (auth). Defaults come from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD. */
  headers?: Record<string, string>;
  /** Aborting stops waits between retries and requests in flight. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * A failed MLflow call, as one line. `retryable` is true for network errors, timeouts, 429 and
 * 5xx; `code` is MLflow's error_code (RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE…) when
 * the server answered with JSON.
 */
export class MlflowError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'MlflowError';
  }
}

export function isMlflowError(e: unknown): e is MlflowError {
  return e instanceof Error && e.name === 'MlflowError';
}

export class MlflowClient {
  readonly uri: string;
  /** HTTP requests sent (every attempt counts), for benchmarks. */
  requests = 0;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly signal?: AbortSignal;
  private readonly fetchImpl: typeof fetch;

  constructor(options: MlflowClientOptions) {
    this.uri = options.uri.replace(/\/+$/, '');
    this.retries = options.retries ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.headers = { ...authHeaders(), ...options.headers };
    this.signal = options.signal;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** True when `/health` answers OK. Never throws; no retries. */
  async health(timeoutMs = 2000): Promise<boolean> {
    try {
      this.requests++;
      // The client's own signal too: closing a tracker must not wait for a probe to time out.
      const signal = this.signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), this.signal]) : AbortSignal.timeout(timeoutMs);
      const res = await this.fetchImpl(`${this.uri}/health`, { headers: this.headers, signal });
      const text = await res.text();
      return res.ok && text.trim() === 'OK';
    } catch {
      return false;
    }
  }

  // Experiments

  /** The experiment with that name (active or deleted), or undefined. */
  async getExperimentByName(name: string): Promise<MlflowExperiment | undefined> {
    try {
      const r = await this.call<{ experiment: RawExperiment }>('GET', 'experiments/get-by-name', { experiment_name: name });
      return toExperiment(r.experiment);
    } catch (e) {
      if (isMlflowError(e) && e.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw e;
    }
  }

  async createExperiment(name: string, tags: KeyValue[] = []): Promise<string> {
    const r = await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name, tags });
    return String(r.experiment_id);
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.call('POST', 'experiments/restore', { experiment_id: experimentId });
  }

  /**
   * The id of the experiment with that name, created if missing (a concurrent creator's
   * RESOURCE_ALREADY_EXISTS is read as success) and restored if it was deleted.
   */
  async getOrCreateExperiment(name: string): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found) {
      if (found.lifecycleStage === 'deleted') await this.restoreExperiment(found.experimentId);
      return found.experimentId;
    }
    try {
      return await this.createExperiment(name);
    } catch (e) {
      if (isMlflowError(e) && e.code === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getExperimentByName(name);
        if (again) return again.experimentId;
      }
      throw e;
    }
  }

  // Runs

  /**
   * Creates a run. Sent once, never retried: a create whose answer was lost may still have made
   * the run, so a blind retry could make two (the tracker looks runs up by tag before creating).
   */
  async createRun(init: { experimentId: string; runName?: string; startTime?: number; tags?: KeyValue[] }): Promise<MlflowRun> {
    const tags = (init.tags ?? []).map((t) => ({ key: t.key, value: truncateValue(t.value, MAX_TAG_VALUE_LENGTH) }));
    const r = await this.call<{ run: RawRun }>(
      'POST',
      'runs/create',
      { experiment_id: init.experimentId, run_name: init.runName, start_time: init.startTime ?? Date.now(), tags },
      { retry: false },
    );
    return toRun(r.run);
  }

  async updateRun(runId: string, update: { status?: RunStatus; endTime?: number; runName?: string }): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, status: update.status, end_time: update.endTime, run_name: update.runName });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.call('POST', 'runs/delete', { run_id: runId });
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const r = await this.call<{ run: RawRun }>('GET', 'runs/get', { run_id: runId });
    return toRun(r.run);
  }

  /** One page of runs. */
  async searchRuns(options: SearchRunsOptions): Promise<{ runs: MlflowRun[]; nextPageToken?: string }> {
    const r = await this.call<{ runs?: RawRun[]; next_page_token?: string }>('POST', 'runs/search', {
      experiment_ids: options.experimentIds,
      filter: options.filter,
      run_view_type: options.viewType ?? 'ACTIVE_ONLY',
      max_results: options.maxResults ?? 1000,
      order_by: options.orderBy,
      page_token: options.pageToken,
    });
    return { runs: (r.runs ?? []).map(toRun), nextPageToken: r.next_page_token || undefined };
  }

  /** Every run that matches, following pages. */
  async searchAllRuns(options: Omit<SearchRunsOptions, 'pageToken'>): Promise<MlflowRun[]> {
    const out: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.searchRuns({ ...options, pageToken });
      out.push(...page.runs);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'runs/set-tag', { run_id: runId, key, value: truncateValue(value, MAX_TAG_VALUE_LENGTH) });
  }

  /** A metric's whole history (all pages). */
  async getMetricHistory(runId: string, key: string): Promise<MlflowMetric[]> {
    const out: MlflowMetric[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.call<{ metrics?: RawMetric[]; next_page_token?: string }>('GET', 'metrics/get-history', {
        run_id: runId,
        metric_key: key,
        max_results: '25000',
        page_token: pageToken,
      });
      for (const m of r.metrics ?? []) out.push({ key: m.key, value: Number(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) });
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /**
   * Logs metrics, params and tags, split into as many log-batch calls as MLflow's limits need
   * (1,000 metrics, 100 params, 100 tags, 1,000 entities and 1 MB per call). Param and tag
   * values are cut to 6,000 / 8,000 characters, duplicate param keys keep their first value, and
   * metrics that are not finite are dropped (JSON cannot carry them). Replaying the same batch
   * is harmless: MLflow ignores an identical param and an identical (key, value, step,
   * timestamp) metric, and overwrites tags. Returns the number of calls made.
   */
  async logBatch(runId: string, batch: LogBatch): Promise<number> {
    const chunks = splitBatch(batch);
    for (const c of chunks) await this.call('POST', 'runs/log-batch', { run_id: runId, ...c });
    return chunks.length;
  }

  // Artifacts

  /**
   * Uploads one file through the server's artifact proxy:
   * `PUT /api/2.0/mlflow-artifacts/artifacts/<path>`, where `<path>` is the run's artifact URI
   * (`mlflow-artifacts:/<experiment>/<run>/artifacts`) without its scheme, then `relPath`.
   */
  async uploadArtifact(artifactUri: string, relPath: string, body: string | Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    const url = this.artifactUrl(artifactUri, relPath);
    await this.send('PUT', url, 'mlflow-artifacts/artifacts', typeof body === 'string' ? Buffer.from(body) : body, contentType);
  }

  /** Lists the files directly under an artifact folder of a run (paths relative to it). */
  async listArtifacts(artifactUri: string, relPath = ''): Promise<{ path: string; isDir: boolean; size?: number }[]> {
    const base = artifactPath(artifactUri);
    const path = [base, relPath].filter(Boolean).join('/').replace(/^\/+/, '');
    const url = `${this.uri}/api/2.0/mlflow-artifacts/artifacts?${new URLSearchParams({ path })}`;
    const r = (await this.send('GET', url, 'mlflow-artifacts/artifacts')) as { files?: { path: string; is_dir?: boolean; file_size?: number | string }[] };
    return (r.files ?? []).map((f) => ({ path: f.path, isDir: Boolean(f.is_dir), size: f.file_size === undefined ? undefined : Number(f.file_size) }));
  }

  /** Downloads one artifact file as text. */
  async downloadArtifact(artifactUri: string, relPath: string): Promise<string> {
    const url = this.artifactUrl(artifactUri, relPath);
    return (await this.send('GET', url, 'mlflow-artifacts/artifacts', undefined, undefined, true)) as string;
  }

  private artifactUrl(artifactUri: string, relPath: string): string {
    if (/^https?:\/\//.test(artifactUri)) return `${artifactUri.replace(/\/+$/, '')}/${encodePath(relPath)}`;
    const base = artifactPath(artifactUri);
    return `${this.uri}/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${base}/${relPath}`)}`;
  }

  // Transport

  private async call<T = unknown>(method: 'GET' | 'POST', endpoint: string, body: Record<string, unknown>, opts: { retry?: boolean } = {}): Promise<T> {
    const clean = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    let url = `${this.uri}/api/2.0/mlflow/${endpoint}`;
    if (method === 'GET') {
      url += `?${new URLSearchParams(clean as Record<string, string>)}`;
      return (await this.send(method, url, endpoint, undefined, undefined, false, opts.retry)) as T;
    }
    return (await this.send(method, url, endpoint, Buffer.from(JSON.stringify(clean)), 'application/json', false, opts.retry)) as T;
  }

  private async send(
    method: string,
    url: string,
    endpoint: string,
    body?: Uint8Array,
    contentType?: string,
    rawText = false,
    retry = true,
  ): Promise<unknown> {
    const attempts = retry ? 1 + this.retries : 1;
    let last: MlflowError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      // An abort ends the wait early (resolving, not throwing): the next attempt sees the signal.
      if (attempt > 0) await wait(this.backoff(attempt - 1), undefined, { signal: this.signal }).catch(() => undefined);
      if (this.signal?.aborted) throw new MlflowError(`MLflow ${method} ${endpoint}: aborted`, endpoint, undefined, undefined, true);
      try {
        return await this.once(method, url, endpoint, body, contentType, rawText);
      } catch (e) {
        if (!isMlflowError(e) || !e.retryable) throw e;
        last = e;
      }
    }
    throw last!;
  }

  private async once(method: string, url: string, endpoint: string, body: Uint8Array | undefined, contentType: string | undefined, rawText: boolean): Promise<unknown> {
    this.requests++;
    const signals = [AbortSignal.timeout(this.timeoutMs)];
    if (this.signal) signals.push(this.signal);
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers: { ...this.headers, ...(contentType ? { 'Content-Type': contentType } : {}) },
        body: body as BodyInit | undefined,
        signal: AbortSignal.any(signals),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
      throw new MlflowError(`MLflow unreachable at ${this.uri} (${method} ${endpoint}: ${why})`, endpoint, undefined, undefined, true);
    }
    const text = await res.text().catch(() => '');
    if (res.ok) {
      if (rawText) return text;
      if (!text) return {};
      try {
        return JSON.parse(text);
      } catch {
        throw new MlflowError(`MLflow ${method} ${endpoint}: the answer is not JSON (is ${this.uri} an MLflow tracking server?)`, endpoint, res.status, undefined, false);
      }
    }
    throw errorFromResponse(res.status, text, method, endpoint, this.uri);
  }

  private backoff(retry: number): number {
    const d = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
    return d / 2 + Math.random() * (d / 2);
  }
}

function errorFromResponse(status: number, text: string, method: string, endpoint: string, uri: string): MlflowError {
  const retryable = status >= 500 || status === 429;
  let code: string | undefined;
  let message = text.trim();
  try {
    const j = JSON.parse(text) as { error_code?: string; message?: string };
    code = j.error_code;
    if (j.message) message = j.message;
  } catch {
    // Plain text: the host and CORS guards answer 403 this way.
  }
  message = oneLine(message) || `HTTP ${status}`;
  let hint = '';
  if (status === 403 && !code) hint = ` (the server's host/CORS guard refused the request to ${uri}; start mlflow server with --allowed-hosts naming the host in that URL)`;
  if (status === 401) hint = ' (set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD)';
  if (status === 404 && !code) hint = ` (is ${uri} an MLflow tracking server with --serve-artifacts?)`;
  return new MlflowError(`MLflow ${method} ${endpoint} failed: ${status}${code ? ` ${code}` : ''}: ${message}${hint}`, endpoint, status, code, retryable);
}

/** `mlflow-artifacts:/1/abc/artifacts` (or `mlflow-artifacts://host:port/1/…`) → `1/abc/artifacts`. */
export function artifactPath(artifactUri: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  if (!m) {
    throw new MlflowError(
      `the run's artifact location "${artifactUri}" is not served by the tracking server; start mlflow server with artifact serving (the default) and --artifacts-destination`,
      'mlflow-artifacts/artifacts',
      undefined,
      undefined,
      false,
    );
  }
  return m[1].replace(/\/+$/, '');
}

function encodePath(p: string): string {
  return p
    .split('/')
    .filter((s) => s !== '')
    .map(encodeURIComponent)
    .join('/');
}

function authHeaders(): Record<string, string> {
  const token = process.env.MLFLOW_TRACKING_TOKEN;
  if (token) return { Authorization: `Bearer ${token}` };
  const user = process.env.MLFLOW_TRACKING_USERNAME;
  const pass = process.env.MLFLOW_TRACKING_PASSWORD;
  if (user && pass) return { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
  return {};
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

interface RawExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
}

interface RawMetric {
  key: string;
  value: number | string;
  timestamp: number | string;
  step?: number | string;
}

interface RawRun {
  info: {
    run_id?: string;
    run_uuid?: string;
    experiment_id: string;
    run_name?: string;
    status?: RunStatus;
    start_time?: number | string;
    end_time?: number | string;
    artifact_uri?: string;
    lifecycle_stage?: string;
  };
  data?: { metrics?: RawMetric[]; params?: KeyValue[]; tags?: KeyValue[] };
}

function toExperiment(e: RawExperiment): MlflowExperiment {
  return { experimentId: String(e.experiment_id), name: e.name, artifactLocation: e.artifact_location ?? '', lifecycleStage: e.lifecycle_stage ?? 'active' };
}

function toRun(r: RawRun): MlflowRun {
  const i = r.info;
  const kv = (list?: KeyValue[]) => Object.fromEntries((list ?? []).map((x) => [x.key, x.value]));
  return {
    runId: String(i.run_id ?? i.run_uuid),
    experimentId: String(i.experiment_id),
    runName: i.run_name ?? '',
    status: i.status ?? 'RUNNING',
    startTime: i.start_time === undefined ? undefined : Number(i.start_time),
    endTime: i.end_time === undefined ? undefined : Number(i.end_time),
    artifactUri: i.artifact_uri ?? '',
    lifecycleStage: i.lifecycle_stage ?? 'active',
    metrics: Object.fromEntries((r.data?.metrics ?? []).map((m) => [m.key, Number(m.value)])),
    params: kv(r.data?.params),
    tags: kv(r.data?.tags),
  };
}
