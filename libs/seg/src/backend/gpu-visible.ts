// Whether an NVIDIA GPU could be used by this process, decided without loading TensorFlow: a
// driver is present and CUDA_VISIBLE_DEVICES does not hide every device. Loading the CUDA build
// where no GPU is usable would only compute on the CPU under the GPU backend's name.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let driver: boolean | undefined;

export function hasNvidiaDriver(): boolean {
  if (driver === undefined) {
    if (existsSync('/proc/driver/nvidia/version')) driver = true;
    else {
      const r = spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 10_000 });
      driver = !r.error && r.status === 0;
    }
  }
  return driver;
}

export function gpuVisible(env: NodeJS.ProcessEnv = process.env): boolean {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1')) return false;
  return hasNvidiaDriver();
}
