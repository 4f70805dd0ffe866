// The page is plain TypeScript and CSS in ./page, bundled for the browser (an IIFE) with esbuild's
// API once per process and inlined into one HTML document: one request, nothing fetched from
// anywhere else (the Content-Security-Policy the server sends forbids it). The root build script
// bundles for Node (ESM with a `node:module` banner), which a browser cannot run, so the page is
// built here instead.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the page's sources are: next to this file when run from source, else in the workspace
 * package (bundled into the CLI in a checkout); undefined in an installed `segtune` package,
 * which carries the page prebuilt instead (see prebuiltPageFile).
 */
export function pageSourceDir(): string | undefined {
  const here = join(dirname(fileURLToPath(import.meta.url)), 'page');
  if (existsSync(join(here, 'main.ts'))) return here;
  try {
    const pkg = createRequire(import.meta.url).resolve('@segtune/dashboard/package.json');
    return join(dirname(pkg), 'src', 'page');
  } catch {
    return undefined;
  }
}

/** The page that `npm pack` of the segtune package writes next to the bundle (dist/dashboard/page.json). */
export function prebuiltPageFile(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'dashboard', 'page.json');
}

export interface PageDocument {
  html: string;
  /** `'sha256-…'` of the one inline script, for the Content-Security-Policy's script-src. */
  scriptHash: string;
}

let cached: Promise<PageDocument> | undefined;

/** The whole page as HTML text with its script's hash (built once per process). */
export function pageDocument(): Promise<PageDocument> {
  cached ??= buildPage().catch((e) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

/** The whole page as HTML text. */
export async function pageHtml(): Promise<string> {
  return (await pageDocument()).html;
}

async function buildPage(): Promise<PageDocument> {
  const dir = pageSourceDir();
  if (!dir) {
    const file = prebuiltPageFile();
    if (!existsSync(file)) throw new Error(`the dashboard page is missing: neither its sources nor ${file} exist`);
    return JSON.parse(readFileSync(file, 'utf8')) as PageDocument;
  }
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [join(dir, 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = out.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
  const css = readFileSync(join(dir, 'style.css'), 'utf8').replace(/<\/style/gi, '<\\/style');
  // The browser hashes the script element's text exactly as it stands between the tags.
  const scriptHash = `'sha256-${createHash('sha256').update(js, 'utf8').digest('base64')}'`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>segtune dashboard</title>
<style>${css}</style>
</head>
<body>
<div id="app" data-testid="app"><p class="loading">Loading…</p></div>
<script>${js}</script>
</body>
</html>
`;
  return { html, scriptHash };
}
