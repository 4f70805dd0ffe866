import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isUserError } from '@segtune/core';
import { runSearch } from './commands/search';
import { runStatus } from './commands/status';
import { runPareto } from './commands/pareto';
import { runImportance } from './commands/importance';
import { runExport } from './commands/export';
import { runWorker } from './commands/worker';
import { runSetup } from './commands/setup';
import { runBackends } from './commands/backends';
import { runPlan } from './commands/plan';
import { runAsk } from './commands/ask';
import { runTell } from './commands/tell';
import { VERSION } from './version';
import { damagedStorageMessage } from './damaged-storage';

const MAX_INT = Number.MAX_SAFE_INTEGER;
const positiveInt = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${flag} expects a positive integer (1 to ${MAX_INT}), got "${v}"`);
  return Number(v);
};
const nonNegativeInt = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${flag} expects a non-negative integer (0 to ${MAX_INT}), got "${v}"`);
  return Number(v);
};
const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

const positiveNumber = (flag: string) => (v: string) => {
  if (!/^\d*\.?\d+$/.test(v) || !(Number(v) > 0)) throw new InvalidArgumentError(`${flag} expects a positive number, got "${v}"`);
  return Number(v);
};

let verbose = process.argv.includes('--verbose');

const EXECUTOR_HELP =
  'where trials run: auto (GPU processes, else threads, a process per trial on native TensorFlow, this thread for built-in benchmark functions), pool (threads), process (a process per trial), gpu, inline (this thread)';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('segtune')
    .description('Hyperparameter search and AutoML for image segmentation')
    .version(VERSION)
    .option('--verbose', 'print stack traces of errors')
    .exitOverride()
    // Commander's own errors as every other: one line, prefixed with segtune.
    .configureOutput({ outputError: (str, write) => write(`segtune: ${str.trimEnd().split('\n')[0].replace(/^error: /, '')}\n`) });

  program
    .command('search')
    .description('run a search described by a space file')
    .argument('<space>', 'the space file (YAML)')
    .option('--trials <n>', 'total trials the study may hold', positiveInt('--trials'))
    .option('--timeout <duration>', 'stop starting trials after this long (e.g. 30m, 1h30m)')
    .option('--workers <n>', 'trials at once without GPUs (default: the number of cores)', positiveInt('--workers'))
    .option('--gpus <list>', 'all | none | 0,1')
    .option('--trials-per-gpu <n>', 'trials at once on each GPU', positiveInt('--trials-per-gpu'))
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://… (default results/segtune.db)')
    .option('--mlflow <url>', 'MLflow tracking server (default: $MLFLOW_TRACKING_URI)')
    .option('--study <name>', "study name (default: the space file's name)")
    .option('--resume', 'continue an existing study')
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'))
    .option('--sampler <kind>', "override the space file's sampler")
    .option('--scheduler <kind>', "override the space file's scheduler")
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKENDS))
    .option('--trial-timeout <duration>', 'fail a trial that runs longer than this; a module workload gets at most 1 s more to stop, a command SIGTERM and then SIGKILL after its grace_seconds (default 10)')
    .option('--heap-limit-mb <n>', "heap limit of each trial's worker thread (a trial above it fails as oom)", positiveInt('--heap-limit-mb'))
    .option('--max-failures <n>', 'stop starting trials after N failed trials in a row (exit 1)', positiveInt('--max-failures'))
    .addOption(new Option('--executor <kind>', EXECUTOR_HELP).choices(['auto', 'inline', 'pool', 'process', 'gpu']))
    .option('--enqueue <file...>', 'export files (segtune export), or YAML/JSON with a params: mapping of some params, that run first (the sampler fills params left out)')
    .option('--warm-start <study[@storage]>', "an earlier study whose trials the sampler starts from (repeat for several; storage: --storage's)", collect, [] as string[])
    .option('--stop-when <rule>', 'stop once a rule holds: patience:N (no better trial in N) or regret:auto|regret:VALUE (GP regret bound below the noise or VALUE); repeatable', collect, [] as string[])
    .option('--no-export', 'write no plot or export into results/<study>/ at the end')
    .option('--json', 'print the study as one JSON document')
    .option('--quiet', 'no progress output')
    .action(async (space: string, opts) => {
      const { exitCode } = await runSearch(space, opts);
      process.exitCode = exitCode;
    });

  program
    .command('worker')
    .description('join a shared study (PostgreSQL) and run its trials until its limits are reached')
    .requiredOption('--storage <url>', 'the shared storage, e.g. postgresql://user@host/db')
    .requiredOption('--study <name>', 'the study to join')
    .option('--space <file>', 'create the study from this space file if it does not exist yet')
    .option('--workers <n>', 'trials at once in this process without GPUs (default: the number of cores)', positiveInt('--workers'))
    .option('--gpus <list>', 'all | none | 0,1')
    .option('--trials-per-gpu <n>', 'trials at once on each GPU', positiveInt('--trials-per-gpu'))
    .option('--retry-failed <n>', "rerun a stale trial's configuration at most N times", nonNegativeInt('--retry-failed'))
    .option('--grace <duration>', "fail another worker's running trial after this long without a heartbeat (default 60s; a dead process on this host is recovered at once)")
    .option('--trials <n>', "override the study's trial limit", positiveInt('--trials'))
    .option('--timeout <duration>', 'stop starting trials after this long (from this worker\'s start)')
    .option('--trial-timeout <duration>', 'fail a trial that runs longer than this; a module workload gets at most 1 s more to stop, a command SIGTERM and then SIGKILL after its grace_seconds (default 10)')
    .option('--heap-limit-mb <n>', "heap limit of each trial's worker thread", positiveInt('--heap-limit-mb'))
    .option('--max-failures <n>', 'stop starting trials after N failed trials in a row (exit 1)', positiveInt('--max-failures'))
    .addOption(new Option('--executor <kind>', EXECUTOR_HELP).choices(['auto', 'inline', 'pool', 'process', 'gpu']))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKENDS))
    .option('--mlflow <url>', 'MLflow tracking server (default: $MLFLOW_TRACKING_URI)')
    .option('--seed <n>', 'study seed when --space creates it', nonNegativeInt('--seed'))
    .option('--json', 'print the study as one JSON document')
    .option('--quiet', 'no progress output')
    .action(async (opts) => {
      const { exitCode } = await runWorker(opts);
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

  program
    .command('pareto')
    .description("print each study's Pareto front and hypervolume, and plot the fronts together")
    .requiredOption('--study <name>', 'a study; repeat (or separate with commas) to compare several', collect, [] as string[])
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://…')
    .option('--out <file>', 'the plot (SVG; a PNG is written beside it); default results/<study>/pareto.svg')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      process.exitCode = await runPareto(opts);
    });

  program
    .command('importance')
    .description("rank a study's params by importance (per objective and for the Pareto front), with bootstrap intervals")
    .requiredOption('--study <name>', 'the study')
    .option('--objective <name>', "one objective, or 'pareto' (default: each objective, and the Pareto front with several)")
    .addOption(new Option('--method <method>', 'the estimator').choices(['ped-anova', 'fanova']).default('ped-anova'))
    .option('--seed <n>', "seed of the resamples (default: the study's seed)", nonNegativeInt('--seed'))
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://…')
    .option('--out <file>', 'a bar chart with the intervals (SVG; a PNG is written beside it)')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      process.exitCode = await runImportance(opts);
    });

  program
    .command('export')
    .description('write the chosen configuration of a study, ready to train again')
    .requiredOption('--study <name>', 'the study')
    .option('--pick <rule>', "best | best:OBJECTIVE | knee | constraints like 'latency_ms<=5' (default: best, or knee for several objectives)")
    .option('--trial <n>', 'this complete trial instead of a pick rule (e.g. one from segtune pareto)', nonNegativeInt('--trial'))
    .addOption(new Option('--format <format>', 'file format').choices(['yaml', 'json']))
    .option('--out <file>', 'default results/<study>/export-trial-N.yaml')
    .option('--with-model', "write the tfjs model the chosen trial trained (its last checkpoint) beside the export")
    .option('--retrain', 'with --with-model: train the configuration again at full budget instead')
    .addOption(new Option('--backend <name>', 'tfjs backend for --with-model').choices(BACKENDS))
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://…')
    .action(async (opts) => {
      process.exitCode = await runExport(opts);
    });

  program
    .command('setup')
    .description("build native TensorFlow for tfjs from PyPI's wheels (CPU, or CUDA 12 with --gpu)")
    .argument('<component>', 'what to set up: tensorflow')
    .option('--gpu', "the CUDA 12 build (tensorflow[and-cuda]); needs an NVIDIA driver")
    .option('--tf-version <version>', 'TensorFlow release from PyPI (default: the tested one)')
    .option('--force', 'build again even when a ready build exists')
    .option('--json', 'print the result as JSON')
    .action(async (component: string, opts) => {
      process.exitCode = await runSetup(component, { ...opts, verbose });
    });

  program
    .command('backends')
    .alias('doctor')
    .description('list the tfjs backends: usable here or why not, version, threads, devices')
    .option('--workers <n>', 'trials at once, for the threads each would get (default: the number of cores)', positiveInt('--workers'))
    .option('--json', 'print JSON')
    .action(async (opts) => {
      process.exitCode = await runBackends(opts);
    });

  program
    .command('plan')
    .description('read a folder dataset and write a search space drawn from its fingerprint, the memory and the time given')
    .requiredOption('--data <dir>', 'the dataset: images/ and masks/ (the folder loader\'s layout)')
    .requiredOption('--out <file>', 'the space file to write (YAML)')
    .option('--memory-mb <n>', 'memory of one GPU, or of the host without GPUs (default: nvidia-smi, else the host)', positiveInt('--memory-mb'))
    .option('--hours <h>', 'wall-clock hours the search may take (default 1)', positiveNumber('--hours'))
    .option('--num-classes <n>', 'classes, background included (default: the largest mask index + 1)', positiveInt('--num-classes'))
    .option('--ignore-index <n>', 'mask value of unlabelled pixels, e.g. 255 (Pascal VOC)', nonNegativeInt('--ignore-index'))
    .option('--workers <n>', 'trials at once (default: GPUs, else cores)', positiveInt('--workers'))
    .addOption(new Option('--backend <name>', 'tfjs backend to time training on').choices(BACKENDS))
    .option('--name <name>', 'study name in the space (default planned)')
    .option('--json', 'print the fingerprint and choices as JSON')
    .action(async (opts) => {
      process.exitCode = await runPlan(opts);
    });

  program
    .command('ask')
    .description('start one trial and print it as JSON (trial number and params), for a program in any language')
    .requiredOption('--study <name>', 'the study')
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://… (default results/segtune.db)')
    .option('--space <file>', 'a space file: creates the study when it does not exist')
    .action(async (opts) => {
      process.exitCode = await runAsk(opts);
    });

  program
    .command('tell')
    .description('finish a trial that ask started, with its values or a state')
    .requiredOption('--study <name>', 'the study')
    .requiredOption('--trial <n>', 'the trial number ask printed', nonNegativeInt('--trial'))
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://… (default results/segtune.db)')
    .option('--values <json>', 'objective values, e.g. \'{"miou": 0.8}\'')
    .option('--state <state>', 'failed or pruned instead of values')
    .option('--step-values <json>', 'intermediate values by step, e.g. \'{"1": 0.5, "2": 0.6}\'')
    .option('--error <message>', 'why the trial failed (with --state failed)')
    .action(async (opts) => {
      process.exitCode = await runTell(opts);
    });

  program
    .command('dashboard')
    .description('serve the web dashboard for a storage')
    .option('--port <n>', 'port', nonNegativeInt('--port'), 8080)
    .option('--host <host>', 'interface to listen on (any but localhost requires --token)', '127.0.0.1')
    .option('--token <token>', 'required on every request when set')
    .option('--storage <url>', 'file path, sqlite:///path.db or postgresql://…', 'results/segtune.db')
    .action(async (opts) => {
      const { startDashboard } = await import('@segtune/dashboard');
      const server = await startDashboard({ storage: opts.storage, host: opts.host, port: opts.port, token: opts.token });
      // The URL with the token is never printed: terminals and CI logs keep what they show.
      process.stderr.write(`segtune dashboard: ${server.url}${opts.token ? ' (open it once as URL?token=<your --token>; API clients send "Authorization: Bearer <token>")' : ''} (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          server.close().then(done, done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
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
    const damaged = damagedStorageMessage(e, argv);
    if (damaged) {
      process.stderr.write(`segtune: ${damaged}\n`);
      if (verbose) process.stderr.write(`${(e as Error).stack}\n`);
      return 2;
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

const isEntry = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('segtune.mjs') || process.argv[1]?.endsWith('/segtune') || process.argv[1]?.endsWith('cli/src/main.ts');
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
