import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError, type Storage } from '@segtune/core';
import { MemoryStorage } from './memory-storage';
import { SqliteStorage } from './sqlite-storage';

export const DEFAULT_STORAGE = 'results/segtune.db';

/** A URL with its password replaced, safe to print and log. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

export type StorageOpener = (url: string) => Promise<Storage>;
const schemes = new Map<string, StorageOpener>();

/** Lets a backend in another module claim a URL scheme (PostgreSQL registers `postgresql`). */
export function registerStorageScheme(scheme: string, opener: StorageOpener): void {
  schemes.set(scheme, opener);
}

/**
 * Opens the storage a `--storage` value names: a plain file path (`results/x.db`), an
 * SQLAlchemy-style URL as Optuna users know it (`sqlite:///relative.db`,
 * `sqlite:////absolute/path.db`), `memory:`, or `postgresql://…`.
 */
export async function openStorage(
  url: string = DEFAULT_STORAGE,
  options: {
    readonly?: boolean;
    cwd?: string;
    /** The flag that named the storage, for messages (default `--storage`), e.g. `--warm-start`. */
    flag?: string;
  } = {},
): Promise<Storage> {
  const cwd = options.cwd ?? process.cwd();
  const flag = options.flag ?? '--storage';
  if (url === 'memory:' || url === ':memory:') return new MemoryStorage();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme && scheme !== 'sqlite' && scheme !== 'file') {
    const key = scheme === 'postgres' ? 'postgresql' : scheme.replace(/\+.*$/, '');
    // The PostgreSQL backend registers itself when loaded; load it on first use (keeps `pg` off
    // the path of SQLite-only runs that import this module alone).
    if ((key === 'postgresql' || key === 'postgres') && !schemes.has(key)) await import('./postgres-storage');
    const opener = schemes.get(key);
    if (!opener) throw new UserError(`${flag}: unsupported scheme "${scheme}://" in ${maskUrl(url)}; allowed: a file path, sqlite:///path.db, postgresql://user@host/db`);
    return opener(url);
  }
  const path = sqlitePath(url, flag);
  const full = resolve(cwd, path);
  const dir = dirname(full);
  if (!existsSync(dir) && !options.readonly) {
    // The default location is ours to create; a user's path must already have its folder.
    if (url === DEFAULT_STORAGE) mkdirSync(dir, { recursive: true });
    else throw new UserError(`${flag}: folder ${dir} does not exist (for ${path})`);
  }
  if (existsSync(full) && statSync(full).isDirectory()) throw new UserError(`${flag}: ${path} is a folder, not a database file`);
  if (options.readonly && !existsSync(full)) throw new UserError(`${flag}: ${path} does not exist${options.flag ? '' : ' (this command only reads a storage; segtune search creates one)'}`);
  return new SqliteStorage(full, { readonly: options.readonly });
}

/** The SQLite file a path, `sqlite:///…` or `file://…` URL names, as written (relative ones to the folder it is opened from). */
function sqlitePath(url: string, flag: string): string {
  if (/^sqlite:\/\//i.test(url)) {
    // sqlite:///rel.db → rel.db ; sqlite:////abs.db → /abs.db
    const path = url.replace(/^sqlite:\/\//i, '');
    // sqlite://x.db would name a host "x.db" in a URL: refuse it rather than guess.
    if (path && !path.startsWith('/')) throw new UserError(`${flag}: ${url} has two slashes; use sqlite:///${path} for a path relative to this folder, or sqlite:////absolute/path.db`);
    const rest = path.startsWith('//') ? path.slice(1) : path.replace(/^\//, '');
    if (!rest) throw new UserError(`${flag}: ${url} names no file; use sqlite:///relative.db or sqlite:////absolute/path.db`);
    return rest;
  }
  if (/^file:\/\//i.test(url)) return url.replace(/^file:\/\//i, '');
  return url;
}

/**
 * The storage URL with a SQLite file made absolute (against `cwd`), so that it names the same
 * storage from any folder (stored with a study, e.g. a warm-start source); memory and server
 * URLs come back as they are.
 */
export function absoluteStorageUrl(url: string, cwd: string = process.cwd(), flag = '--storage'): string {
  if (url === 'memory:' || url === ':memory:') return url;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme && scheme !== 'sqlite' && scheme !== 'file') return url;
  return resolve(cwd, sqlitePath(url, flag));
}
