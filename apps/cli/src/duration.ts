import { UserError } from '@segtune/core';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `1h30m`, `90s`, `250ms` or a plain number of seconds → milliseconds. */
export function parseDuration(text: string, flag = '--timeout'): number {
  const t = text.trim();
  const ms = durationMs(t);
  if (ms === undefined) throw new UserError(`${flag}: "${text}" is not a duration; use e.g. 90s, 30m, 1h30m`);
  if (!(ms > 0) || !Number.isFinite(ms)) throw new UserError(`${flag}: "${text}" must be longer than 0 (e.g. 90s, 30m, 1h30m)`);
  return ms;
}

function durationMs(t: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * UNITS[m[2]];
    matched = re.lastIndex;
  }
  if (matched !== t.length || t.length === 0) return undefined;
  return total;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
