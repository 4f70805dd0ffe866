// Fast convolution gradients for the wasm backend, composed of kernels it runs well (XNNPACK
// Conv2D and DepthwiseConv2dNative, Transpose, PadV2, Reverse, Sum). tfjs-backend-wasm lacks the
// filter gradients and the depthwise input gradient, and its own Conv2DBackpropInput is a plain
// C++ loop about 10× slower than XNNPACK's Conv2D on U-Net shapes, so we replace it too.
//
// The tricks, all in NHWC:
// - filter gradient = a convolution over the "batch as channels" transposes: the input turned
//   into [Ci, H, W, N] convolved with the output gradient turned into the filter [Ho, Wo, N, Co]
//   with dilation = the forward stride (and stride = the forward dilation) gives [Ci, KH, KW, Co];
// - input gradient = a stride-1 convolution of the output gradient, zero-inserted by the forward
//   stride and padded, with the filter rotated by 180° (and in/out channels swapped).
import {
  backend_util,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { KernelScope } from './kernel-scope';

type Strides = number | [number, number];
type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;

interface ConvGradArgs {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

function withScope(backend: KernelBackend, overrides: Record<string, KernelConfig>, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const s = new KernelScope(backend, 'wasm', overrides);
  try {
    return s.finish(body(s));
  } catch (e) {
    s.abandon();
    throw e;
  }
}

function isNCHW(dataFormat: unknown): boolean {
  return dataFormat === 'NCHW';
}

/** dW of Conv2D: x [N,H,W,Ci], dy [N,Ho,Wo,Co] → [KH,KW,Ci,Co]. */
export function conv2DBackpropFilter(overrides: Record<string, KernelConfig> = {}): KernelFunc {
  return (({ inputs, backend, attrs }: ConvGradArgs) =>
    withScope(backend, overrides, (s) => {
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
        strides: Strides; pad: Pad; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
      };
      let { x, dy } = inputs;
      if (isNCHW(dataFormat)) {
        x = s.transpose(x, NCHW_TO_NHWC);
        dy = s.transpose(dy, NCHW_TO_NHWC);
      }
      const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
      const [, h, w] = x.shape;
      const { top, left } = info.padInfo;
      const bottom = (info.outHeight - 1) * info.strideHeight + info.filterHeight - top - h;
      const right = (info.outWidth - 1) * info.strideWidth + info.filterWidth - left - w;
      const xt = s.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, N]
      const dyt = s.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
      const out = s.conv('Conv2D', xt, dyt, [1, 1], [info.strideHeight, info.strideWidth], [[top, bottom], [left, right]]); // [Ci, KH, KW, Co]
      return s.transpose(out, [1, 2, 0, 3]);
    })) as unknown as KernelFunc;
}

/** dx of Conv2D: dy [N,Ho,Wo,Co], filter [KH,KW,Ci,Co] → [N,H,W,Ci]. */
export function conv2DBackpropInput(overrides: Record<string, KernelConfig> = {}): KernelFunc {
  return (({ inputs, backend, attrs }: ConvGradArgs) =>
    withScope(backend, overrides, (s) => {
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
        strides: Strides; pad: Pad; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number];
      };
      const nchw = isNCHW(dataFormat);
      let { dy } = inputs;
      const { filter } = inputs;
      const xShape = (nchw ? NCHW_TO_NHWC.map((i) => inputShape[i]) : inputShape) as [number, number, number, number];
      if (nchw) dy = s.transpose(dy, NCHW_TO_NHWC);
      const info = backend_util.computeConv2DInfo(xShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
      const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
      const up = s.zeroInsert(dy, sh, sw); // [N, Ho*sh, Wo*sw, Co]
      const pl = kh - 1 - info.padInfo.top;
      const ql = kw - 1 - info.padInfo.left;
      const pr = xShape[1] + kh - 1 - pl - up.shape[1];
      const qr = xShape[2] + kw - 1 - ql - up.shape[2];
      const rotated = s.transpose(s.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [KH, KW, Co, Ci]
      const dx = s.conv('Conv2D', up, rotated, [1, 1], [1, 1], [[pl, pr], [ql, qr]]);
      return nchw ? s.transpose(dx, NHWC_TO_NCHW) : dx;
    })) as unknown as KernelFunc;
}

/** dx of DepthwiseConv2dNative: dy [N,Ho,Wo,Ci*M], filter [KH,KW,Ci,M] → [N,H,W,Ci]. */
export function depthwiseConv2dNativeBackpropInput(overrides: Record<string, KernelConfig> = {}): KernelFunc {
  return (({ inputs, backend, attrs }: ConvGradArgs) =>
    withScope(backend, overrides, (s) => {
      const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as {
        strides: Strides; dilations: Strides; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number];
      };
      const { dy, filter } = inputs;
      const [kh, kw, ci, m] = filter.shape;
      const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, true);
      const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
      const [n, h, w] = inputShape;
      const up = s.zeroInsert(dy, sh, sw); // [N, Ho*sh, Wo*sw, Ci*M]
      const pl = info.effectiveFilterHeight - 1 - info.padInfo.top;
      const ql = info.effectiveFilterWidth - 1 - info.padInfo.left;
      const pr = h + info.effectiveFilterHeight - 1 - pl - up.shape[1];
      const qr = w + info.effectiveFilterWidth - 1 - ql - up.shape[2];
      // Channel c*M+k of dy meets filter[.., c, k]: a depthwise conv over Ci*M channels.
      const rotated = s.reshape(s.reverse(filter, [0, 1]), [kh, kw, ci * m, 1]);
      const dx = s.conv('DepthwiseConv2dNative', up, rotated, [1, 1], [dh, dw], [[pl, pr], [ql, qr]]); // [N,H,W,Ci*M]
      return m === 1 ? dx : s.sum(s.reshape(dx, [n, h, w, ci, m]), [4]);
    })) as unknown as KernelFunc;
}

/** dW of DepthwiseConv2dNative: x [N,H,W,Ci], dy [N,Ho,Wo,Ci*M] → [KH,KW,Ci,M]. */
export function depthwiseConv2dNativeBackpropFilter(overrides: Record<string, KernelConfig> = {}): KernelFunc {
  return (({ inputs, backend, attrs }: ConvGradArgs) =>
    withScope(backend, overrides, (s) => {
      const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as {
        strides: Strides; dilations: Strides; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
      };
      const { x, dy } = inputs;
      const [n, h, w, ci] = x.shape;
      const [kh, kw, , m] = filterShape;
      const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations ?? 1, pad, dimRoundingMode, true);
      const { outHeight: ho, outWidth: wo } = info;
      const { top, left } = info.padInfo;
      const bottom = (ho - 1) * info.strideHeight + info.effectiveFilterHeight - top - h;
      const right = (wo - 1) * info.strideWidth + info.effectiveFilterWidth - left - w;
      // Channels (c, n) of one image [1, H, W, Ci*N], convolved depthwise with a per-channel
      // filter dy[n, :, :, c*M+k] laid out [Ho, Wo, Ci*N, M]; the forward stride becomes the
      // dilation and the forward dilation the stride.
      const xt = s.reshape(s.transpose(x, [1, 2, 3, 0]), [1, h, w, ci * n]);
      const dyt = s.reshape(s.transpose(s.reshape(dy, [n, ho, wo, ci, m]), [1, 2, 3, 0, 4]), [ho, wo, ci * n, m]);
      const out = s.conv('DepthwiseConv2dNative', xt, dyt, [info.dilationHeight, info.dilationWidth], [info.strideHeight, info.strideWidth], [[top, bottom], [left, right]]); // [1, KH, KW, Ci*N*M]
      const perImage = s.reshape(out, [kh, kw, ci, n, m]);
      return n === 1 ? s.reshape(perImage, [kh, kw, ci, m]) : s.sum(perImage, [3]);
    })) as unknown as KernelFunc;
}
