// tfjs backends for the segmentation workload: automatic choice, and the kernels that let the
// wasm backend train (fast convolution gradients, a CPU bridge for the rest).
export { initBackend, BACKEND_NAMES, type BackendInfo, type BackendName, type InitBackendOptions, type TfModule } from './init-backend';
export {
  registerWasmTrainingKernels,
  listMissingWasmKernels,
  FAST_WASM_KERNELS,
  UNBRIDGEABLE_KERNELS,
  type WasmKernelRegistration,
} from './wasm-training-kernels';
export { configureWasmPaths, wasmBinaryDir } from './wasm-paths';
