import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the server does to one request instead of (or besides) answering it:
 * `status` answers with that HTTP status (and MLflow's error JSON when `code` is set); `drop`
 * destroys the connection without an answer; `delayMs` answers that much later. `when: 'after'`
 * applies the request first, so the client loses an answer whose work was done.
 */
export type Fault = ({ status: number; code?: string; message?: string } | { drop: true } | { delayMs: number }) & { when?: 'before' | 'after' };

export interface FakeRequest {
  method: string;
  /** `runs/log-batch`, `health`, `artifacts`… */
  endpoint: string;
  body: Record<string, any>;
}

interface FakeRun {
  info: { run_id: string; experiment_id: string; run_name: string; status: string; start_time: number; end_time?: number; artifact_uri: string; lifecycle_stage: string };
  params: Map<string, string>;
  tags: Map<string, string>;
  /** Distinct (key, value, step, timestamp), as MLflow keeps them. */
  metrics: Map<string, { key: string; value: number; step: number; timestamp: number }>;
}

/**
 * A small stand-in for an MLflow tracking server on node:http: the REST calls the tracker makes
 * (experiments, runs, search by tag, log-batch, update, delete, artifact upload, /health), with
 * MLflow's rules where the tracker relies on them (a param keeps its first value, an identical
 * metric is stored once, tags overwrite), and a `fault` hook to answer 5xx, 4xx, slowly or not at
 * all. For unit tests; the real-server tests in tests/ run against MLflow itself.
 */
export class FakeMlflow {
  fault: ((req: FakeRequest) => Fault | undefined) | undefined;
  readonly experiments = new Map<string, string>();
  readonly runs = new Map<string, FakeRun>();
  readonly artifacts = new Map<string, string>();
  /** Requests per endpoint (every attempt). */
  readonly requests = new Map<string, number>();
  /** Params logged again with the same value (MLflow accepts these; the tracker avoids them). */
  repeatedParams = 0;
  /** runs/create requests that made a run, by run name. */
  readonly creates = new Map<string, number>();
  private nextRun = 1;
  private server: Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();

  get uri(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  count(endpoint: string): number {
    return this.requests.get(endpoint) ?? 0;
  }

  /** Active runs of an experiment. */
  activeRuns(experimentName: string): FakeRun[] {
    const id = this.experiments.get(experimentName);
    return [...this.runs.values()].filter((r) => r.info.experiment_id === id && r.info.lifecycle_stage === 'active');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? '/', 'http://x');
    let endpoint = url.pathname.replace(/^\/api\/2\.0\/mlflow\//, '').replace(/^\//, '');
    if (url.pathname.startsWith('/api/2.0/mlflow-artifacts/artifacts')) endpoint = 'artifacts';
    let body: Record<string, any> = Object.fromEntries(url.searchParams);
    if (req.method === 'POST' && raw) body = JSON.parse(raw) as Record<string, any>;
    this.requests.set(endpoint, this.count(endpoint) + 1);
    const fault = this.fault?.({ method: req.method ?? 'GET', endpoint, body });
    if (fault && fault.when !== 'after' && this.applyFault(fault, res)) return;
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    const answer = this.route(req.method ?? 'GET', endpoint, body, url, raw);
    if (fault && fault.when === 'after' && this.applyFault(fault, res)) return;
    if (res.destroyed) return;
    if (typeof answer === 'string') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(answer);
    } else {
      res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body));
    }
  }

  /** True when the fault took the place of the answer. */
  private applyFault(fault: Fault, res: ServerResponse): boolean {
    if ('drop' in fault) {
      res.socket?.destroy();
      return true;
    }
    if ('status' in fault) {
      res.writeHead(fault.status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error_code: fault.code ?? 'INTERNAL_ERROR', message: fault.message ?? `injected ${fault.status}` }));
      return true;
    }
    return false;
  }

  private route(method: string, endpoint: string, b: Record<string, any>, url: URL, raw: string): string | { status: number; body: unknown } {
    const ok = (body: unknown = {}) => ({ status: 200, body });
    const notFound = (what: string) => ({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `${what} not found` } });
    switch (endpoint) {
      case 'health':
        return 'OK';
      case 'experiments/get-by-name': {
        const id = this.experiments.get(String(b.experiment_name));
        return id ? ok({ experiment: { experiment_id: id, name: b.experiment_name, lifecycle_stage: 'active' } }) : notFound(`experiment ${b.experiment_name}`);
      }
      case 'experiments/create': {
        const id = String(this.experiments.size + 1);
        this.experiments.set(String(b.name), id);
        return ok({ experiment_id: id });
      }
      case 'runs/create': {
        const runId = String(this.nextRun++).padStart(32, '0');
        const run: FakeRun = {
          info: { run_id: runId, experiment_id: String(b.experiment_id), run_name: String(b.run_name ?? ''), status: 'RUNNING', start_time: Number(b.start_time), artifact_uri: `mlflow-artifacts:/${b.experiment_id}/${runId}/artifacts`, lifecycle_stage: 'active' },
          params: new Map(),
          tags: new Map((b.tags ?? []).map((t: { key: string; value: string }) => [t.key, t.value])),
          metrics: new Map(),
        };
        this.runs.set(runId, run);
        this.creates.set(run.info.run_name, (this.creates.get(run.info.run_name) ?? 0) + 1);
        return ok({ run: toRaw(run) });
      }
      case 'runs/search': {
        const wanted = [...String(b.filter ?? '').matchAll(/tags\.`([^`]+)` = '([^']*)'/g)].map((m) => [m[1], m[2]] as const);
        const runs = [...this.runs.values()].filter(
          (r) => (b.experiment_ids as string[]).includes(r.info.experiment_id) && r.info.lifecycle_stage === 'active' && wanted.every(([k, v]) => r.tags.get(k) === v),
        );
        return ok({ runs: runs.map(toRaw) });
      }
      case 'runs/log-batch': {
        const run = this.runs.get(String(b.run_id));
        if (!run) return notFound(`run ${b.run_id}`);
        for (const p of b.params ?? []) {
          const had = run.params.get(p.key);
          if (had !== undefined && had !== p.value) return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: `Changing param values is not allowed. Param with key='${p.key}'` } };
        }
        for (const p of b.params ?? []) {
          if (run.params.has(p.key)) this.repeatedParams++;
          run.params.set(p.key, p.value);
        }
        for (const t of b.tags ?? []) run.tags.set(t.key, t.value);
        for (const m of b.metrics ?? []) run.metrics.set(`${m.key}|${m.value}|${m.step}|${m.timestamp}`, { key: m.key, value: m.value, step: m.step, timestamp: m.timestamp });
        return ok();
      }
      case 'runs/update': {
        const run = this.runs.get(String(b.run_id));
        if (!run) return notFound(`run ${b.run_id}`);
        if (b.status) run.info.status = b.status;
        if (b.end_time) run.info.end_time = b.end_time;
        return ok({ run_info: run.info });
      }
      case 'runs/delete': {
        const run = this.runs.get(String(b.run_id));
        if (run) run.info.lifecycle_stage = 'deleted';
        return ok();
      }
      case 'artifacts':
        if (method !== 'PUT') return notFound('artifact listing');
        this.artifacts.set(decodeURIComponent(url.pathname.replace('/api/2.0/mlflow-artifacts/artifacts/', '')), raw);
        return ok();
      default:
        return notFound(`endpoint ${endpoint}`);
    }
  }
}

function toRaw(r: FakeRun) {
  return {
    info: r.info,
    data: {
      params: [...r.params].map(([key, value]) => ({ key, value })),
      tags: [...r.tags].map(([key, value]) => ({ key, value })),
      metrics: [...r.metrics.values()],
    },
  };
}
