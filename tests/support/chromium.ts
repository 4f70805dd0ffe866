// Headless Chromium for browser tests: Debian's `chromium`, installed by scripts/ensure-chromium.sh
// when missing, driven by playwright-core. With CI set, a browser that cannot be had fails the
// run; elsewhere the browser tests skip with the reason.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { repoRoot } from './cli';

const execFileP = promisify(execFile);

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export type ChromiumAvailability = { ok: true; path: string } | { ok: false; reason: string };

let availability: Promise<ChromiumAvailability> | undefined;

/** Installs Chromium once if needed; resolves to its path, or (outside CI) to the reason it is missing. */
export function ensureChromium(): Promise<ChromiumAvailability> {
  availability ??= (async (): Promise<ChromiumAvailability> => {
    try {
      const { stdout } = await execFileP(`${repoRoot}/scripts/ensure-chromium.sh`, [], { cwd: repoRoot, timeout: 600_000, maxBuffer: 1 << 20 });
      return { ok: true, path: stdout.trim().split('\n').pop()! };
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      const reason = (err.stderr?.trim() || err.message).split('\n').pop()!;
      if (process.env.CI) throw new Error(`headless Chromium is required when CI is set: ${reason}`);
      return { ok: false, reason };
    }
  })();
  return availability;
}

export async function launchChromium(path: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: path, args: CHROMIUM_ARGS, headless: true });
}
