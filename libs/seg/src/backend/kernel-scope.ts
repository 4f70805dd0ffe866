// Runs backend kernels directly (no engine, no gradient tape) and frees every intermediate it
// made. Composite kernels use it to build a gradient out of kernels the wasm backend already
// has, without the engine overhead or the tape recording of calling tf ops.
import { getKernel, type KernelBackend, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';

type Pads = [number, number][];

export class KernelScope {
  private readonly made: TensorInfo[] = [];

  constructor(
    private readonly backend: KernelBackend,
    private readonly backendName = 'wasm',
    /** Kernels to use instead of the registry's (the originals of kernels we replaced). */
    private readonly overrides: Record<string, KernelConfig> = {},
  ) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const config = this.overrides[kernelName] ?? getKernel(kernelName, this.backendName);
    if (!config) throw new Error(`kernel ${kernelName} is not registered for backend ${this.backendName}`);
    const out = config.kernelFunc({ inputs, attrs, backend: this.backend });
    const outs = Array.isArray(out) ? out : [out];
    this.made.push(...outs);
    return outs[0];
  }

  /** Frees every intermediate except `keep` (each kernel output holds one reference). */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.made) if (t !== keep) this.backend.disposeData(t.dataId);
    this.made.length = 0;
    return keep;
  }

  /** Frees everything (on error). */
  abandon(): void {
    for (const t of this.made) this.backend.disposeData(t.dataId);
    this.made.length = 0;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /** Pads with zeros where a pad is positive and crops where it is negative. */
  padOrCrop(x: TensorInfo, pads: Pads): TensorInfo {
    let out = x;
    if (pads.some(([a, b]) => a < 0 || b < 0)) {
      const begin = pads.map(([a]) => Math.max(0, -a));
      const size = pads.map(([a, b], i) => x.shape[i] - Math.max(0, -a) - Math.max(0, -b));
      out = this.run('Slice', { x: out }, { begin, size });
    }
    if (pads.some(([a, b]) => a > 0 || b > 0)) {
      const paddings = pads.map(([a, b]) => [Math.max(0, a), Math.max(0, b)]);
      out = this.run('PadV2', { x: out }, { paddings, constantValue: 0 });
    }
    return out;
  }

  /**
   * Inserts s-1 zeros after every row and column of an NHWC tensor (the input of a transposed
   * convolution with stride s): [N,H,W,C] → [N,H*sH,W*sW,C], the last s-1 rows/columns zero.
   */
  zeroInsert(x: TensorInfo, sH: number, sW: number): TensorInfo {
    if (sH === 1 && sW === 1) return x;
    const [n, h, w, c] = x.shape;
    const x6 = this.reshape(x, [n, h, 1, w, 1, c]);
    const padded = this.run('PadV2', { x: x6 }, { paddings: [[0, 0], [0, 0], [0, sH - 1], [0, 0], [0, sW - 1], [0, 0]], constantValue: 0 });
    return this.reshape(padded, [n, h * sH, w * sW, c]);
  }

  /**
   * Conv2D or DepthwiseConv2dNative (NHWC) with per-side spatial pads that may be negative
   * (negative ones crop the input first; the rest go to the kernel as explicit padding).
   */
  conv(
    kind: 'Conv2D' | 'DepthwiseConv2dNative',
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    [[top, bottom], [left, right]]: Pads,
  ): TensorInfo {
    const input = this.padOrCrop(x, [[0, 0], [Math.min(0, top), Math.min(0, bottom)], [Math.min(0, left), Math.min(0, right)], [0, 0]]);
    const pad = [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]];
    const attrs: NamedAttrMap = { strides, dilations, pad, dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap;
    return this.run(kind, { x: input, filter }, attrs);
  }
}
