import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TF_VERSION, findInstall, installDir, packageDirOf, projectTfjsVersion, readInstall, segtuneHome, type NativeVariant } from './tensorflow-cache';

const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'segtune-home-'));
  homes.push(h);
  return h;
}

/** A fake install folder: the marker, and a binding file where the loader looks for it. */
function fakeInstall(root: string, variant: NativeVariant, tfVersion: string, o: { marker?: boolean; binding?: boolean; tfjs?: string } = {}): string {
  const tfjs = o.tfjs ?? projectTfjsVersion();
  const dir = installDir(variant, tfVersion, tfjs, root);
  const lib = join(packageDirOf(dir, variant), 'lib', 'napi-v8');
  mkdirSync(lib, { recursive: true });
  if (o.binding !== false) writeFileSync(join(lib, 'tfjs_binding.node'), '');
  if (o.marker !== false) writeFileSync(join(dir, 'ready.json'), JSON.stringify({ variant, tfVersion, tfjsVersion: tfjs, builtAt: '2026-12-02T00:00:00Z' }));
  return dir;
}

describe('segtune cache', () => {
  it('lives in SEGTUNE_HOME, else XDG_CACHE_HOME/segtune, else ~/.cache/segtune', () => {
    expect(segtuneHome({ SEGTUNE_HOME: '/x/y' })).toBe('/x/y');
    expect(segtuneHome({ XDG_CACHE_HOME: '/c' })).toBe('/c/segtune');
    expect(segtuneHome({})).toMatch(/\.cache\/segtune$/);
  });

  it('treats a folder without its ready marker, or without the built binding, as unfinished', () => {
    const root = home();
    expect(readInstall(fakeInstall(root, 'cpu', '2.20.0', { marker: false }))).toBeUndefined();
    expect(readInstall(fakeInstall(root, 'cpu', '2.19.0', { binding: false }))).toBeUndefined();
    const ok = readInstall(fakeInstall(root, 'cpu', '2.18.0'));
    expect(ok).toMatchObject({ variant: 'cpu', tfVersion: '2.18.0' });
    expect(findInstall('cpu', { SEGTUNE_HOME: root })?.tfVersion).toBe('2.18.0');
  });

  it('prefers SEGTUNE_TF_VERSION, then the default version, then the newest; per variant and tfjs version', () => {
    const root = home();
    fakeInstall(root, 'cpu', '2.9.1');
    fakeInstall(root, 'cpu', '2.10.0');
    fakeInstall(root, 'gpu', '2.30.0');
    fakeInstall(root, 'cpu', '2.99.0', { tfjs: '0.0.1' }); // built for another tfjs: never picked
    expect(findInstall('cpu', { SEGTUNE_HOME: root })?.tfVersion).toBe('2.10.0'); // numeric, not lexical
    fakeInstall(root, 'cpu', DEFAULT_TF_VERSION);
    fakeInstall(root, 'cpu', '9.0.0');
    expect(findInstall('cpu', { SEGTUNE_HOME: root })?.tfVersion).toBe(DEFAULT_TF_VERSION);
    expect(findInstall('cpu', { SEGTUNE_HOME: root, SEGTUNE_TF_VERSION: '2.9.1' })?.tfVersion).toBe('2.9.1');
    expect(findInstall('cpu', { SEGTUNE_HOME: root, SEGTUNE_TF_VERSION: '1.0.0' })).toBeUndefined();
    expect(findInstall('gpu', { SEGTUNE_HOME: root })?.tfVersion).toBe('2.30.0');
    expect(findInstall('gpu', { SEGTUNE_HOME: home() })).toBeUndefined();
  });
});
