import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ESLint } from 'eslint';
import { repoRoot } from './support/cli';

// The design's dependency rule (apps → adapters → core → space), enforced by Nx tags through
// ESLint: these probes are linted as if they lived in a package, without touching the tree.
describe('module boundaries', () => {
  let eslint: ESLint;
  beforeAll(() => {
    process.env.NX_DAEMON = 'false';
    process.env.NX_NO_CLOUD = 'true';
    execFileSync(process.execPath, [`${repoRoot}/node_modules/nx/dist/bin/nx.js`, 'show', 'projects'], { cwd: repoRoot, stdio: 'ignore' });
    eslint = new ESLint({ cwd: repoRoot });
  });

  const lint = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: `${repoRoot}/${file}` });
    return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
  };

  it('core may not import an adapter', async () => {
    expect(await lint('libs/core/src/probe.ts', "import { SqliteStorage } from '@segtune/storage';\nexport const x = SqliteStorage;\n")).not.toEqual([]);
  });

  it('space may not import core', async () => {
    expect(await lint('libs/space/src/probe.ts', "import { Rng } from '@segtune/core';\nexport const x = Rng;\n")).not.toEqual([]);
  });

  it('an adapter may import core, and the CLI may import adapters', async () => {
    expect(await lint('libs/samplers/src/probe.ts', "import { Rng } from '@segtune/core';\nexport const x = Rng;\n")).toEqual([]);
    expect(await lint('apps/cli/src/probe.ts', "import { SqliteStorage } from '@segtune/storage';\nexport const x = SqliteStorage;\n")).toEqual([]);
  });

  it('one adapter may not import another (storage → samplers)', async () => {
    expect(await lint('libs/storage/src/probe.ts', "import { RandomSampler } from '@segtune/samplers';\nexport const x = RandomSampler;\n")).not.toEqual([]);
  });
});
