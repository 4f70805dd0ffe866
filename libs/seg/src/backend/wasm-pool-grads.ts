// A correct MaxPoolGrad for the wasm backend. tfjs-backend-wasm 4.22's own MaxPoolGrad loses the
// gradient of every window whose values are all negative (it sends it to the wrong place), which
// silently corrupts training whenever a pool does not follow a ReLU. This runs the pooling
// argmax in JavaScript over copies of the wasm tensors: O(input × window), about a millisecond for
// a U-Net level, with the CPU backend's semantics (the first maximum of a window, row-major, wins).
import { backend_util, type KernelBackend, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';

export function maxPoolGrad(): KernelFunc {
  return (({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs: NamedAttrMap }) => {
    const { dy, input } = inputs;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const x = backend.readSync(input.dataId) as Float32Array;
    const g = backend.readSync(dy.dataId) as Float32Array;
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
    const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
    const { top, left } = info.padInfo;
    const dx = new Float32Array(x.length);
    const best = new Float32Array(c);
    const at = new Int32Array(c);
    for (let b = 0; b < n; b++) {
      for (let yr = 0; yr < ho; yr++) {
        for (let yc = 0; yc < wo; yc++) {
          best.fill(-Infinity);
          at.fill(-1);
          for (let kr = 0; kr < fh; kr += dh) {
            const xr = yr * sh - top + kr;
            if (xr < 0 || xr >= h) continue;
            for (let kc = 0; kc < fw; kc += dw) {
              const xc = yc * sw - left + kc;
              if (xc < 0 || xc >= w) continue;
              const base = ((b * h + xr) * w + xc) * c;
              for (let ch = 0; ch < c; ch++) {
                const v = x[base + ch];
                if (v > best[ch]) {
                  best[ch] = v;
                  at[ch] = base + ch;
                }
              }
            }
          }
          const gBase = ((b * ho + yr) * wo + yc) * c;
          for (let ch = 0; ch < c; ch++) if (at[ch] >= 0) dx[at[ch]] += g[gBase + ch];
        }
      }
    }
    return { dataId: backend.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
  }) as unknown as KernelFunc;
}
