// Who may talk to the dashboard: on a loopback host anyone on this machine (unless a token is
// set); on any other host only requests carrying the token. Loopback without a token also checks
// the Host header, so that a web page elsewhere cannot reach it through DNS rebinding.
import { createHash, timingSafeEqual } from 'node:crypto';
import { UserError } from '@segtune/core';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase());
}

export interface AccessOptions {
  host: string;
  port: number;
  token?: string;
}

/** Checks the listening options; throws a one-line UserError naming the flag. */
export function checkAccessOptions(o: AccessOptions): void {
  if (typeof o.host !== 'string' || o.host.trim() === '') throw new UserError('--host: empty; give an address such as 127.0.0.1 (the default) or 0.0.0.0 (with --token)');
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new UserError(`--port: ${String(o.port)} is not a port; allowed: an integer from 0 to 65535 (0 picks a free one)`);
  if (o.token !== undefined) {
    if (o.token.length < 8) throw new UserError('--token: too short; use at least 8 characters (e.g. the output of `openssl rand -hex 16`)');
    if (!/^[\x21-\x7e]+$/.test(o.token)) throw new UserError('--token: only printable ASCII without spaces is allowed (it travels in a header and a URL)');
  }
  if (!isLoopback(o.host) && o.token === undefined) {
    throw new UserError(`--host: listening on ${o.host} exposes the dashboard beyond this machine; give --token T too (every request must then carry it), or keep the default 127.0.0.1`);
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time (hashing first, so lengths do not leak either). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token a request carries in `Authorization: Bearer T`. */
export function bearerToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  const a = Array.isArray(auth) ? auth[0] : auth;
  const m = a ? /^Bearer\s+(\S+)\s*$/i.exec(a) : null;
  return m ? m[1] : undefined;
}

/** `?token=T` of a URL: only the page takes it, once, in exchange for a session cookie. */
export function queryToken(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get('token') ?? undefined;
}

/** Whether a Host header names this machine's loopback (any port). */
export function hostHeaderIsLoopback(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const h = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
  return isLoopback(h);
}
