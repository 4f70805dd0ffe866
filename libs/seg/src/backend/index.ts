// tfjs backends for the segmentation workload: automatic choice, and the kernels that let the
// wasm backend train (fast convolution gradients, a CPU bridge for the rest).
export { initBackend, assertBackendAvailable, availableHint, BACKEND_NAMES, type BackendInfo, type BackendName, type InitBackendOptions, type TfModule } from './init-backend';
export { setupTensorflow, checkPrerequisites, type SetupOptions, type SetupResult } from './tensorflow-setup';
export { findInstall, nativeAvailable, segtuneHome, installDir, DEFAULT_TF_VERSION, type TensorflowInstall, type NativeVariant } from './tensorflow-cache';
export { probeInstall, type ProbeResult } from './tensorflow-probe';
export { nativeBackendEnv, type NativeEnvOptions } from './native-env';
export { gpuVisible, hasNvidiaDriver } from './gpu-visible';
export {
  registerWasmTrainingKernels,
  listMissingWasmKernels,
  FAST_WASM_KERNELS,
  UNBRIDGEABLE_KERNELS,
  type WasmKernelRegistration,
} from './wasm-training-kernels';
export { configureWasmPaths, wasmBinaryDir } from './wasm-paths';
export { describeBackends, type BackendReport } from './backend-report';
