// The dashboard's token travels once: a browser opens /?token=T, gets an HttpOnly session cookie
// (a random value, not the token) and is sent to / without the token, so that the token stays
// out of browser history, referrers and the page's script. API clients send
// `Authorization: Bearer T` instead.
import { randomBytes } from 'node:crypto';
import { tokenMatches } from './access';

export const SESSION_COOKIE = 'segtune_session';

/** A fresh session secret, one per server. */
export function newSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The Set-Cookie header value for a session. */
export function sessionCookieHeader(secret: string): string {
  return `${SESSION_COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/`;
}

/** Whether a Cookie header carries this server's session (compared in constant time). */
export function hasSession(cookieHeader: string | undefined, secret: string): boolean {
  if (!cookieHeader) return false;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE && tokenMatches(secret, part.slice(eq + 1).trim())) return true;
  }
  return false;
}
