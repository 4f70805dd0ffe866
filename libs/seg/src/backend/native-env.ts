// The environment native TensorFlow reads when a trial's first context is made: its share of
// the cores (intra-op threads = cores ÷ trials at once, inter-op 1, so that 2 trials on 2 cores
// do not fight over 4 threads), memory growth on GPUs (several trials share a card instead of
// the first one taking it all), and quiet start-up logs unless asked for. Variables the user set
// are left alone. TensorFlow reads the process's real environment, which only the main thread's
// process.env writes to: executors apply this before they start trial threads or processes.
import { availableParallelism } from 'node:os';
import { nativeAvailable } from './tensorflow-cache';

export interface NativeEnvOptions {
  /** Trials that run at once in this process (threads) or across the machine (GPU processes). */
  trialsAtOnce: number;
  /** Trials run on GPUs (one process per GPU). */
  gpu?: boolean;
  /** Keep TensorFlow's start-up and placement logs. */
  verbose?: boolean;
  /** Cores to share out; default: the cores this process may use. */
  cores?: number;
}

export function nativeBackendEnv(o: NativeEnvOptions, current: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const cores = o.cores ?? availableParallelism();
  const fromUser = Number(current.SEGTUNE_TF_THREADS);
  const share = Number.isInteger(fromUser) && fromUser > 0 ? fromUser : Math.max(1, Math.floor(cores / Math.max(1, o.trialsAtOnce)));
  const wanted: Record<string, string> = {
    TF_NUM_INTRAOP_THREADS: String(share),
    TF_NUM_INTEROP_THREADS: '1',
    TF_CPP_MIN_LOG_LEVEL: o.verbose ? '0' : '2',
    // Set explicitly, TensorFlow keeps oneDNN on and stops announcing it on every start.
    TF_ENABLE_ONEDNN_OPTS: '1',
  };
  if (o.gpu) wanted.TF_FORCE_GPU_ALLOW_GROWTH = 'true';
  return Object.fromEntries(Object.entries(wanted).filter(([k]) => current[k] === undefined));
}

/**
 * Whether a trial asking for this backend (`--backend`, the workload's own, or auto) may load
 * native TensorFlow. Such trials each get a process of their own: two TensorFlow runtimes in
 * worker threads of one process crashed searches with SIGSEGV now and then (each thread's
 * binding state is its own, so the fault lies deeper, in TensorFlow or its loading), and one
 * runtime per process is how TensorFlow is used everywhere else.
 */
export function mayLoadNative(preferred: string | undefined): boolean {
  if (preferred === 'tensorflow' || preferred === 'tensorflow-gpu') return true;
  if (preferred && preferred !== 'auto') return false;
  return nativeAvailable('gpu') || nativeAvailable('cpu');
}
