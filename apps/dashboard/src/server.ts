// The dashboard server: a fastify app over one storage, opened read-only so that it can never
// block or break a running search (SQLite in WAL mode lets readers and the writer work at once).
//
//   GET /                                  the page (HTML with its script and styles inline)
//   GET /api/studies                       every study with its trial counts
//   GET /api/studies/:name[?pick=RULE]     the study page's data (see page-data.ts)
//   GET /api/studies/:name/pick?rule=RULE  one selection rule's result (400 + one line when bad)
//   GET /api/studies/:name/importance[?target=OBJ|pareto&method=ped-anova|fanova]  the importance panel
//   GET /api/studies/:name/trials/:number  one trial, with its export snippet
//   GET /api/studies/:name/events          server-sent events: `update` whenever the study changes
//
// With a token every request must carry it (`Authorization: Bearer T`) or the session cookie
// that opening `/?token=T` once exchanges it for (the page is then reloaded without it), else 401.
// Error bodies say no more than needed: a 404 names neither the storage nor other studies.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { UserError, isUserError, type Storage } from '@segtune/core';
import { maskUrl, openStorage } from '@segtune/storage';
import { bearerToken, checkAccessOptions, hostHeaderIsLoopback, isLoopback, queryToken, tokenMatches } from './access';
import { pageDocument } from './page-bundle';
import { hasSession, newSessionSecret, sessionCookieHeader } from './session-cookie';
import { StudyCache } from './study-cache';
import type { UpdateEvent } from './page-data';
import { countStates } from './study-view';

export interface DashboardOptions {
  /** A storage URL or path as `--storage` takes it, or an open Storage (left open on close). */
  storage: string | Storage;
  /** Default 127.0.0.1; any non-loopback host requires `token`. */
  host?: string;
  /** Default 8080; 0 picks a free port. A string (the raw `--port` text) is checked here too. */
  port?: number | string;
  token?: string;
  /** How often open event streams poll the storage for changes, in ms (default 500). */
  pollMs?: number;
  /**
   * Read the newest studies into the cache right after listening (default true), so that the
   * first page load finds them warm instead of paying for reading every trial.
   */
  prewarm?: boolean;
}

export interface Dashboard {
  /** The base URL, e.g. http://127.0.0.1:8080/ (without the token). */
  url: string;
  /**
   * The URL to open in a browser: `url` with `?token=T` when a token is set (exchanged for a
   * cookie at once). It holds the token: do not print or log it.
   */
  openUrl: string;
  port: number;
  close(): Promise<void>;
}

/** The page may run its own one script (by hash) and nothing else. */
const csp = (scriptHash: string) => `default-src 'none'; script-src ${scriptHash}; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** Keeps the caches of the studies looked at most recently (each holds its trials in memory). */
const MAX_CACHED_STUDIES = 16;

class StudyNotFound extends Error {}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const rawPort = options.port ?? 8080;
  if (typeof rawPort === 'string' && !/^\d{1,5}$/.test(rawPort.trim())) throw new UserError(`--port: "${rawPort}" is not a port; allowed: an integer from 0 to 65535 (0 picks a free one)`);
  const port = Number(rawPort);
  const token = options.token;
  checkAccessOptions({ host, port, token });
  const pollMs = options.pollMs ?? 500;

  const ownStorage = typeof options.storage === 'string';
  const storage = typeof options.storage === 'string' ? await openStorage(options.storage, { readonly: true }) : options.storage;
  let page: string;
  let pageCsp: string;
  try {
    const doc = await pageDocument();
    page = doc.html;
    pageCsp = csp(doc.scriptHash);
  } catch (e) {
    if (ownStorage) await storage.close();
    throw new Error(`dashboard: cannot build the page: ${(e as Error).message}`);
  }

  const caches = new Map<string, StudyCache>();
  async function studyCache(name: string): Promise<StudyCache> {
    let c = caches.get(name);
    if (c) {
      // Most recently used last.
      caches.delete(name);
      caches.set(name, c);
    } else {
      const record = await storage.getStudy(name);
      if (!record) {
        throw new StudyNotFound('not found');
      }
      c = new StudyCache(storage, record);
      caches.set(name, c);
      for (const [k, v] of caches) {
        if (caches.size <= MAX_CACHED_STUDIES) break;
        if (!subscribers.has(k) && v !== c) caches.delete(k);
      }
    }
    await c.sync();
    return c;
  }

  const app = Fastify({ logger: false, forceCloseConnections: true, routerOptions: { maxParamLength: 500 } });

  const session = newSessionSecret();
  app.addHook('onRequest', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (token !== undefined) {
      if (hasSession(req.headers.cookie, session) || tokenMatches(token, bearerToken(req.headers))) return;
      const inQuery = queryToken(req.url);
      if (req.method === 'GET' && req.url.split('?')[0] === '/' && inQuery !== undefined && tokenMatches(token, inQuery)) {
        // Once: the cookie replaces the token, and the page reloads without it in its URL.
        return reply.header('set-cookie', sessionCookieHeader(session)).redirect('/', 303);
      }
      reply.header('www-authenticate', 'Bearer realm="segtune dashboard"');
      return reply.code(401).send({ error: 'unauthorized: this dashboard needs its token (open /?token=T once in a browser, or send "Authorization: Bearer T")' });
    } else if (isLoopback(host) && !hostHeaderIsLoopback(req.headers.host)) {
      return reply.code(403).send({ error: `forbidden: this dashboard answers only to localhost, not to Host "${req.headers.host ?? ''}"` });
    }
  });

  const fail = (reply: FastifyReply, e: unknown) => {
    if (e instanceof StudyNotFound) return reply.code(404).send({ error: 'not found' });
    if (isUserError(e)) return reply.code(400).send({ error: (e as Error).message });
    // The message may hold paths or SQL: it stays on the server.
    return reply.code(500).send({ error: 'internal error' });
  };

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', pageCsp).send(page));

  app.get('/api/studies', async (_req, reply) => {
    try {
      const studies = [];
      for (const r of await storage.listStudies()) {
        const counts = countStates([]);
        for (const s of Object.keys(counts) as (keyof typeof counts)[]) counts[s] = await storage.countTrials(r.id, [s]);
        studies.push({
          name: r.name,
          objectives: r.objectives,
          sampler: r.sampler ?? null,
          scheduler: r.scheduler ?? null,
          created_at: new Date(r.createdAt).toISOString(),
          counts,
          n_trials: Object.values(counts).reduce((a, b) => a + b, 0),
        });
      }
      return reply.send({ storage: maskUrl(storage.description), studies });
    } catch (e) {
      return fail(reply, e);
    }
  });

  type StudyReq = FastifyRequest<{ Params: { name: string }; Querystring: { pick?: string; rule?: string } }>;

  app.get('/api/studies/:name', async (req: StudyReq, reply) => {
    try {
      const c = await studyCache(req.params.name);
      const pick = typeof req.query.pick === 'string' ? req.query.pick : undefined;
      return reply.type('application/json; charset=utf-8').send(c.pageJson(pick));
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/api/studies/:name/pick', async (req: StudyReq, reply) => {
    try {
      const c = await studyCache(req.params.name);
      const rule = typeof req.query.rule === 'string' ? req.query.rule : '';
      if (rule.trim() === '') throw new UserError('pick: give a rule as ?rule=; allowed: best, best:OBJECTIVE, knee, or constraints like "latency_ms<=5"');
      return reply.send(c.pick(rule));
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/api/studies/:name/importance', async (req: FastifyRequest<{ Params: { name: string }; Querystring: { target?: string; method?: string } }>, reply) => {
    try {
      const c = await studyCache(req.params.name);
      const target = typeof req.query.target === 'string' && req.query.target !== '' ? req.query.target : undefined;
      const method = typeof req.query.method === 'string' && req.query.method !== '' ? req.query.method : undefined;
      return reply.type('application/json; charset=utf-8').send(c.importanceJson(target, method));
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/api/studies/:name/trials/:number', async (req: FastifyRequest<{ Params: { name: string; number: string } }>, reply) => {
    try {
      const c = await studyCache(req.params.name);
      const n = Number(req.params.number);
      if (!/^\d+$/.test(req.params.number)) throw new UserError(`trial: "${req.params.number}" is not a trial number (an integer from 0)`);
      const t = c.trialPage(n);
      if (!t) return reply.code(404).send({ error: 'not found' });
      return reply.send(t);
    } catch (e) {
      return fail(reply, e);
    }
  });

  // Server-sent events. One poller for the whole server syncs only the studies someone watches.
  // Each stream remembers the version it last told its page about: any request may sync a
  // study's cache, so the poller compares versions rather than trusting its own sync's result.
  const subscribers = new Map<string, Map<ServerResponse, number>>();
  let knownStudies: string | undefined;
  const send = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  app.get('/api/studies/:name/events', async (req: StudyReq, reply) => {
    let c: StudyCache;
    try {
      c = await studyCache(req.params.name);
    } catch (e) {
      return fail(reply, e);
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    const s = c.summary();
    send(res, 'hello', { study: s.name, version: s.version, counts: s.counts, n_trials: s.n_trials, changed: [] } satisfies UpdateEvent);
    let set = subscribers.get(c.record.name);
    if (!set) subscribers.set(c.record.name, (set = new Map()));
    set.set(res, s.version);
    req.raw.on('close', () => {
      set!.delete(res);
      if (set!.size === 0 && subscribers.get(c.record.name) === set) subscribers.delete(c.record.name);
    });
  });

  let polling = false;
  let ticks = 0;
  const poll = async () => {
    if (polling || subscribers.size === 0) return;
    polling = true;
    try {
      for (const [name, set] of subscribers) {
        const c = caches.get(name) ?? (await studyCache(name));
        await c.sync();
        const keepAlive = ticks % Math.max(1, Math.round(15_000 / pollMs)) === 0;
        let s: ReturnType<StudyCache['summary']> | undefined;
        for (const [res, told] of set) {
          if (c.seq > told) {
            s ??= c.summary();
            send(res, 'update', { study: name, version: s.version, counts: s.counts, n_trials: s.n_trials, changed: c.changedSince(told).slice(0, 1000) } satisfies UpdateEvent);
            set.set(res, s.version);
          } else if (keepAlive) res.write(': keep-alive\n\n');
        }
      }
      // New or removed studies: tell the pages so their study lists refresh.
      const names = (await storage.listStudies()).map((r) => r.name).join('\n');
      if (knownStudies !== undefined && names !== knownStudies) for (const set of subscribers.values()) for (const res of set.keys()) send(res, 'studies', { names: names.split('\n') });
      knownStudies = names;
    } catch {
      // A failed read (say, the file briefly locked by a checkpoint) is retried on the next tick.
    } finally {
      polling = false;
      ticks++;
    }
  };
  const timer = setInterval(() => void poll(), pollMs);
  timer.unref();

  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));

  try {
    await app.listen({ host, port });
  } catch (e) {
    clearInterval(timer);
    if (ownStorage) await storage.close();
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new UserError(`--port: ${port} is already in use on ${host}; pick another with --port (0 picks a free one)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new UserError(`--host: cannot listen on ${host} (${code}); give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`);
    if (code === 'EACCES') throw new UserError(`--port: not allowed to listen on port ${port} (ports below 1024 need root); pick another with --port`);
    throw e;
  }
  let closing = false;
  if (options.prewarm ?? true) {
    setTimeout(async () => {
      try {
        const newest = (await storage.listStudies()).reverse().slice(0, MAX_CACHED_STUDIES);
        for (const r of newest) {
          if (closing) return;
          (await studyCache(r.name)).pageJson();
          // Let requests that arrived meanwhile in between two studies.
          await new Promise((resolve) => setImmediate(resolve));
        }
      } catch {
        // Prewarming is an optimisation; a request reads the study itself when needed.
      }
    }, 0).unref();
  }

  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${boundPort}/`,
    openUrl: `http://${urlHost}:${boundPort}/${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`,
    port: boundPort,
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(timer);
        for (const set of subscribers.values()) for (const res of set.keys()) res.end();
        subscribers.clear();
        await app.close();
        if (ownStorage) await storage.close();
      })();
      return closed;
    },
  };
}
