// COCO's bbob functions for the sampler benchmarks (bench:samplers' suite, bench:gp-warping):
// the Python environment that has them, and a client for bench/peers/bbob_peer.py serve.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The Python of the `samplers` environment (created once by scripts/python-venv.sh). */
export function samplersPython(): string {
  // Its own environment (not the shared `bench` one): CmaEsSampler needs cmaes, the suite coco-experiment.
  return execFileSync(join(benchDir, '..', 'scripts/python-venv.sh'), ['samplers', 'optuna==5.0.0', 'scipy', 'torch==2.13.0', 'cmaes==0.13.1', 'coco-experiment==2.8.2'], { encoding: 'utf8' }).trim();
}

/** A client for bench/peers/bbob_peer.py serve: COCO's own bbob evaluations over stdin/stdout. */
export class BbobServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = '';
  private readonly waiting: ((line: string) => void)[] = [];

  constructor(python: string) {
    this.child = spawn(python, [join(benchDir, 'peers/bbob_peer.py'), 'serve']);
    this.child.stderr.pipe(process.stderr);
    this.child.stdout.on('data', (d) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.waiting.shift()?.(line);
      }
    });
  }

  private ask<T>(req: unknown): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.push((line) => resolve(JSON.parse(line) as T));
      this.child.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  info(p: Problem): Promise<{ fopt: number }> {
    return this.ask({ info: p });
  }

  async evaluate(p: Problem, x: number[]): Promise<number> {
    return (await this.ask<{ y: number }>({ p, x })).y;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** [function, dimension, instance] of a bbob problem. */
export type Problem = [number, number, number];
