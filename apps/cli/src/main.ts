import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isUserError } from '@segtune/core';
import { runSearch } from './commands/search';
import { runStatus } from './commands/status';
import { VERSION } from './version';

const positiveInt = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${flag} expects a positive integer, got "${v}"`);
  return Number(v);
};
const nonNegativeInt = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${flag} expects a non-negative integer, got "${v}"`);
  return Number(v);
};

let verbose = process.argv.includes('--verbose');

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('segtune')
    .description('Hyperparameter search and AutoML for image segmentation')
    .version(VERSION)
    .option('--verbose', 'print stack traces of errors')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.trimEnd().split('\n')[0] + '\n') });

  program
    .command('search')
    .description('run a search described by a space file')
    .argument('<space>', 'the space file (YAML)')
    .option('--trials <n>', 'total trials the study may hold', positiveInt('--trials'))
    .option('--timeout <duration>', 'stop starting trials after this long (e.g. 30m, 1h30m)')
    .option('--workers <n>', 'trials at once without GPUs (default: the number of cores)', positiveInt('--workers'))
    .option('--gpus <list>', 'all | none | 0,1')
    .option('--trials-per-gpu <n>', 'trials at once on each GPU', nonNegativeInt('--trials-per-gpu'))
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://… (default results/segtune.db)')
    .option('--mlflow <url>', 'MLflow tracking server (default: $MLFLOW_TRACKING_URI)')
    .option('--study <name>', "study name (default: the space file's name)")
    .option('--resume', 'continue an existing study')
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'))
    .option('--sampler <kind>', "override the space file's sampler")
    .option('--scheduler <kind>', "override the space file's scheduler")
    .option('--backend <name>', 'tfjs backend: tensorflow-gpu, tensorflow, wasm, cpu')
    .option('--trial-timeout <duration>', 'fail a trial that runs longer than this')
    .addOption(new Option('--executor <kind>', 'where trials run').choices(['auto', 'inline', 'pool', 'gpu']))
    .option('--json', 'print the study as one JSON document')
    .option('--quiet', 'no progress output')
    .action(async (space: string, opts) => {
      const { exitCode } = await runSearch(space, opts);
      process.exitCode = exitCode;
    });

  program
    .command('status')
    .description('show the studies in a storage, or one study')
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://…')
    .option('--study <name>', 'one study in detail')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      process.exitCode = await runStatus(opts);
    });

  return program;
}

export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; every other parse error is bad input.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isUserError(e)) {
      process.stderr.write(`segtune: ${(e as Error).message}\n`);
      if (verbose) process.stderr.write(`${(e as Error).stack}\n`);
      return 2;
    }
    process.stderr.write(`segtune: error: ${(e as Error)?.message ?? String(e)}\n`);
    if (verbose) process.stderr.write(`${(e as Error)?.stack}\n`);
    else process.stderr.write('(run with --verbose for the stack trace)\n');
    return 1;
  }
}

const isEntry = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('segtune.mjs') || process.argv[1]?.endsWith('/segtune');
if (isEntry) {
  verbose = process.argv.includes('--verbose');
  main().then(
    (code) => {
      process.exitCode = code;
      // Pools and servers are closed by now; a lingering handle (a tfjs timer) must not hang us.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (e) => {
      process.stderr.write(`segtune: error: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
