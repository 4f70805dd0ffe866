// Runs a kernel the wasm backend lacks on the CPU backend, copying its inputs out of the wasm
// heap and its outputs back in. Correct for every kernel whose tensors wasm can hold, but each
// call pays two copies and the CPU kernel's speed: fine for cold kernels (gather gradients,
// einsum, ragged ops), far too slow for convolution gradients, which wasm-conv-grads covers.
import { engine, getKernel, type KernelBackend, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';

type Values = ReturnType<KernelBackend['readSync']>;

/** A wasm kernel config for `kernelName` that runs the CPU backend's implementation. */
export function cpuBridgeKernel(kernelName: string, backendName = 'wasm'): KernelConfig {
  const kernelFunc = ({ inputs, attrs, backend }: { inputs: Record<string, TensorInfo>; attrs: NamedAttrMap; backend: KernelBackend }) => {
    const cpu = engine().findBackend('cpu');
    const cpuKernel = getKernel(kernelName, 'cpu');
    if (!cpu || !cpuKernel) throw new Error(`cannot bridge kernel ${kernelName} to the cpu backend: cpu backend or kernel missing`);
    const onCpu: TensorInfo[] = [];
    try {
      // Some kernels (Einsum, AddN, Concat) take an array of inputs: keep the container's kind.
      const cpuInputs: Record<string, TensorInfo> | TensorInfo[] = Array.isArray(inputs) ? [] : {};
      for (const [name, t] of Object.entries(inputs)) {
        if (t == null) continue;
        if (t.dtype === 'complex64') throw new Error(`kernel ${kernelName}: the wasm backend cannot hold complex64 tensors; use the cpu backend`);
        const values = backend.readSync(t.dataId) as Values;
        const info: TensorInfo = { dataId: cpu.write(values, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
        onCpu.push(info);
        (cpuInputs as Record<string, TensorInfo>)[name] = info;
      }
      const out = cpuKernel.kernelFunc({ inputs: cpuInputs as Record<string, TensorInfo>, attrs, backend: cpu });
      const outs = Array.isArray(out) ? out : [out];
      onCpu.push(...outs);
      const back = outs.map((o): TensorInfo => {
        if (o.dtype === 'complex64') throw new Error(`kernel ${kernelName}: the wasm backend cannot hold complex64 tensors; use the cpu backend`);
        return { dataId: backend.write(cpu.readSync(o.dataId) as Values, o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
      });
      return Array.isArray(out) ? back : back[0];
    } finally {
      for (const t of onCpu) cpu.disposeData(t.dataId);
    }
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
