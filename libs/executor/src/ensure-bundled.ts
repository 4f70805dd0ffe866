// For tests and benchmarks that import the sources directly: bundles this package's thread and
// process entries (what `node scripts/build.mjs` does) when dist/ is missing or older than the
// sources. Each file is written under a temporary name and renamed, so test files running in
// parallel never read a half-written bundle.
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

export async function ensureBundled(): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { segtune: { bundle: Record<string, string> } };
  const entries = Object.entries(pkg.segtune.bundle);
  const srcDir = join(pkgDir, 'src');
  const newestSource = Math.max(...readdirSync(srcDir).map((f) => mtime(join(srcDir, f))));
  const stale = entries.filter(([, out]) => mtime(join(pkgDir, out)) < newestSource);
  if (!stale.length) return;
  const { build } = await import('esbuild');
  const rootPkg = JSON.parse(readFileSync(join(pkgDir, '..', '..', 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const external = [...Object.keys(rootPkg.dependencies ?? {}), ...Object.keys(rootPkg.devDependencies ?? {}), '@tensorflow/*'];
  for (const [src, out] of stale) {
    const outfile = join(pkgDir, out);
    const result = await build({
      entryPoints: [join(pkgDir, src)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external,
      write: false,
      logLevel: 'warning',
      banner: { js: "import { createRequire as __segtuneCreateRequire } from 'node:module'; const require = __segtuneCreateRequire(import.meta.url);" },
    });
    mkdirSync(dirname(outfile), { recursive: true });
    for (const f of result.outputFiles) {
      const tmp = `${f.path}.${process.pid}.tmp`;
      writeFileSync(tmp, f.contents);
      renameSync(tmp, f.path);
    }
  }
}
