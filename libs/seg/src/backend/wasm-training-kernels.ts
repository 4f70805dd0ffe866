// Makes the wasm backend able to train: fast composite convolution gradients, and a CPU bridge
// for every other kernel the CPU backend has and wasm lacks.
import '@tensorflow/tfjs-backend-wasm'; // registers the wasm backend and its kernels
import { getKernel, getKernelsForBackend, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs';
import { cpuBridgeKernel } from './cpu-bridge';
import {
  conv2DBackpropFilter,
  conv2DBackpropInput,
  depthwiseConv2dNativeBackpropFilter,
  depthwiseConv2dNativeBackpropInput,
} from './wasm-conv-grads';
import { maxPoolGrad } from './wasm-pool-grads';

/** Kernels we implement on wasm: composites of wasm kernels (XNNPACK convolutions, transposes, pads) and a JS pooling gradient. */
export const FAST_WASM_KERNELS: Record<string, (overrides: Record<string, KernelConfig>) => KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  // wasm has this one, but as a naive loop ~10× slower than the XNNPACK Conv2D it becomes here.
  Conv2DBackpropInput: conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInput,
  // wasm has this one too, but it is wrong for windows of negative values (see wasm-pool-grads).
  MaxPoolGrad: maxPoolGrad,
};

/** CPU kernels that cannot be bridged: their tensors are complex64, which wasm cannot hold. */
export const UNBRIDGEABLE_KERNELS = ['Complex', 'ComplexAbs', 'Real', 'Imag', 'FFT', 'IFFT'];

export interface WasmKernelRegistration {
  fast: string[];
  /** Fast kernels that replaced one wasm already had. */
  replaced: string[];
  bridged: string[];
}

let registration: WasmKernelRegistration | undefined;

function wasmKernelNames(): Set<string> {
  return new Set(getKernelsForBackend('wasm').map((k) => k.kernelName));
}

/** Registers our gradient kernels on the wasm backend (idempotent). */
export function registerWasmTrainingKernels(): WasmKernelRegistration {
  if (registration) return registration;
  const fast: string[] = [];
  const replaced: string[] = [];
  for (const [kernelName, make] of Object.entries(FAST_WASM_KERNELS)) {
    const original = getKernel(kernelName, 'wasm');
    if (original) {
      unregisterKernel(kernelName, 'wasm');
      replaced.push(kernelName);
    }
    // The composites call only other kernels; they never reach the one they replace.
    registerKernel({ kernelName, backendName: 'wasm', kernelFunc: make({}) });
    fast.push(kernelName);
  }
  const have = wasmKernelNames();
  const bridged: string[] = [];
  for (const { kernelName } of getKernelsForBackend('cpu')) {
    if (have.has(kernelName) || UNBRIDGEABLE_KERNELS.includes(kernelName)) continue;
    registerKernel(cpuBridgeKernel(kernelName));
    bridged.push(kernelName);
  }
  registration = { fast, replaced, bridged: bridged.sort() };
  return registration;
}

/** Kernels the cpu backend has and wasm lacks (after registration, if it ran). */
export function listMissingWasmKernels(): string[] {
  const have = wasmKernelNames();
  return getKernelsForBackend('cpu')
    .map((k) => k.kernelName)
    .filter((k) => !have.has(k))
    .sort();
}
