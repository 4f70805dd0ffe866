import * as tf from '@tensorflow/tfjs';

/**
 * What segtune's own kernels use of tfjs-node's backend (not in tfjs' typings). Its execute
 * calls return tensors made through tfjs' engine, so a kernel's intermediates are freed by a
 * tidy like any others.
 */
export interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_FLOAT: number; TF_ATTR_INT: number; TF_ATTR_STRING: number; TF_ATTR_BOOL: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: NativeAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: NativeAttr[], inputs: tf.TensorInfo[], numOutputs: number): tf.Tensor[];
  /** Tensors the backend holds. */
  numDataIds(): number;
}

export interface NativeAttr {
  name: string;
  type: number;
  value: number | string | boolean;
}

/**
 * True when tfjs runs on native TensorFlow (tfjs-node, CPU or GPU build), after registering
 * `kernels` there (once each). A kernel runs one TensorFlow op where tfjs would compose several;
 * callers take tfjs' own path when this is false.
 */
export function withNativeKernels(kernels: { name: string; run: (backend: NativeBackend, inputs: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[] }[]): boolean {
  if (tf.getBackend() !== 'tensorflow') return false;
  for (const k of kernels) {
    if (tf.getKernel(k.name, 'tensorflow')) continue;
    tf.registerKernel({ kernelName: k.name, backendName: 'tensorflow', kernelFunc: ({ inputs, backend, attrs }) => k.run(backend as unknown as NativeBackend, inputs as Record<string, tf.TensorInfo>, attrs ?? {}) });
  }
  return true;
}

/** The `T` attribute of a float32 op (or another type attribute, such as batch norm's `U`). */
export function floatType(b: NativeBackend, name = 'T'): NativeAttr {
  return { name, type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT };
}

/** A type attribute that is int32. */
export function int32Type(b: NativeBackend, name: string): NativeAttr {
  return { name, type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_INT32 };
}

export function intAttr(b: NativeBackend, name: string, value: number): NativeAttr {
  return { name, type: b.binding.TF_ATTR_INT, value };
}
