// Training kernels for the wasm backend of TensorFlow.js 4.22, built from the backend's own
// forward kernels (XNNPACK conv, transpose, reverse, slice):
//
//   Conv2DBackpropFilter  not registered by the backend at all: convolutions could not train.
//                         dW = transpose(conv2d(transpose(x), transpose(dy), dilation = stride)).
//   Conv2DBackpropInput   the backend's kernel is a naive loop; for stride 1 we use
//                         dX = conv2d(dy, reverse(W) with in/out channels swapped, padding k-1-p).
//   BatchMatMul           the backend's transposed path was 16x slower than transposing first
//                         (dense-layer gradients are transposed matmuls).
//
// Kernels call other kernels' kernelFunc directly, as the backends do internally: going through
// tf ops here would record intermediate tensors on the gradient tape. Intermediates are released
// with backend.disposeData, which also drops XNNPACK operators cached for a temporary filter.
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "../backend.js";

type Pad = "valid" | "same" | number | [[number, number], [number, number], [number, number], [number, number]];

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
}

const BACKEND = "wasm";

/** Runs one registered kernel of `BACKEND` on raw TensorInfos. */
function callerFor(tf: TensorFlowModule, config?: KernelConfig) {
  return (name: string, backend: WasmBackendLike, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo => {
    const kernel = config ?? tf.getKernel(name, BACKEND);
    if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
    return kernel.kernelFunc({ inputs, backend, attrs } as never) as TensorInfo;
  };
}

function release(backend: WasmBackendLike, ...tensors: TensorInfo[]): void {
  for (const tensor of tensors) backend.disposeData(tensor.dataId);
}

function explicitPad(top: number, bottom: number, left: number, right: number): Pad {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function assertChannelsLast(attrs: ConvAttrs, kernel: string): void {
  if (attrs.dataFormat && attrs.dataFormat !== "NHWC") throw new Error(`${kernel} on wasm supports only NHWC (channelsLast)`);
}

/** dW[i,j,c,o] = Σ x_pad[n, y·s+i, x·s+j, c]·dy[n,y,x,o]: a convolution with batch and channels swapped. */
function conv2dBackpropFilter(tf: TensorFlowModule): KernelConfig {
  const call = callerFor(tf);
  return {
    kernelName: "Conv2DBackpropFilter",
    backendName: BACKEND,
    kernelFunc: ({ inputs, backend: rawBackend, attrs: rawAttrs }) => {
      const backend = rawBackend as unknown as WasmBackendLike;
      const attrs = rawAttrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
      assertChannelsLast(attrs, "Conv2DBackpropFilter");
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const [filterHeight, filterWidth] = attrs.filterShape;
      const info = tf.backend_util.computeConv2DInfo(x.shape as never, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
      const [, inHeight, inWidth] = x.shape as [number, number, number, number];
      const { top, left } = info.padInfo;
      // Bottom/right padding that makes the output exactly the filter size; negative means the
      // last input rows are never read (valid padding, stride > 1): pad 0 and crop the output.
      const bottom = filterHeight - inHeight - top + (info.outHeight - 1) * info.strideHeight;
      const right = filterWidth - inWidth - left + (info.outWidth - 1) * info.strideWidth;
      const xT = call("Transpose", backend, { x }, { perm: [3, 1, 2, 0] }); // [c, H, W, n]
      const dyT = call("Transpose", backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, n, o]
      let gradient = call("Conv2D", backend, { x: xT, filter: dyT }, {
        strides: 1,
        pad: explicitPad(top, Math.max(0, bottom), left, Math.max(0, right)),
        dilations: [info.strideHeight, info.strideWidth],
        dataFormat: "NHWC",
      }); // [c, kh, kw, o] (larger when cropped)
      release(backend, xT, dyT);
      if (bottom < 0 || right < 0) {
        const cropped = call("Slice", backend, { x: gradient }, { begin: [0, 0, 0, 0], size: [-1, filterHeight, filterWidth, -1] });
        release(backend, gradient);
        gradient = cropped;
      }
      const result = call("Transpose", backend, { x: gradient }, { perm: [1, 2, 0, 3] }); // [kh, kw, c, o]
      release(backend, gradient);
      return result;
    },
  };
}

/** dX for stride 1 as a forward convolution; other strides keep the backend's own kernel. */
function conv2dBackpropInput(tf: TensorFlowModule, original: KernelConfig): KernelConfig {
  const call = callerFor(tf);
  const callOriginal = callerFor(tf, original);
  return {
    kernelName: "Conv2DBackpropInput",
    backendName: BACKEND,
    kernelFunc: (args) => {
      const { inputs, backend: rawBackend, attrs: rawAttrs } = args as unknown as KernelArgs;
      const backend = rawBackend;
      const attrs = rawAttrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const filterShape = filter.shape as [number, number, number, number];
      const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
      if (info.strideHeight !== 1 || info.strideWidth !== 1 || (attrs.dataFormat && attrs.dataFormat !== "NHWC")) {
        return callOriginal("Conv2DBackpropInput", backend, inputs, rawAttrs);
      }
      const [filterHeight, filterWidth] = filterShape;
      const [, inHeight, inWidth] = attrs.inputShape;
      const { top, left } = info.padInfo;
      const padTop = filterHeight - 1 - top;
      const padLeft = filterWidth - 1 - left;
      const padBottom = inHeight - info.outHeight + top; // = filterHeight - 1 - forward bottom padding
      const padRight = inWidth - info.outWidth + left;
      const reversed = call("Reverse", backend, { x: filter }, { dims: [0, 1] });
      const flipped = call("Transpose", backend, { x: reversed }, { perm: [0, 1, 3, 2] }); // [kh, kw, o, c]
      release(backend, reversed);
      const result = call("Conv2D", backend, { x: dy, filter: flipped }, {
        strides: 1,
        pad: explicitPad(padTop, padBottom, padLeft, padRight),
        dilations: 1,
        dataFormat: "NHWC",
      });
      release(backend, flipped);
      return result;
    },
  };
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, axis) => axis);
  [perm[rank - 2], perm[rank - 1]] = [rank - 1, rank - 2];
  return perm;
}

/** Transposes operands explicitly, then runs the backend's untransposed matmul. */
function batchMatMul(tf: TensorFlowModule, original: KernelConfig): KernelConfig {
  const call = callerFor(tf);
  const callOriginal = callerFor(tf, original);
  return {
    kernelName: "BatchMatMul",
    backendName: BACKEND,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args as unknown as KernelArgs;
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return callOriginal("BatchMatMul", backend, inputs, attrs);
      const left = transposeA ? call("Transpose", backend, { x: a }, { perm: swapLastTwo(a.shape.length) }) : a;
      const right = transposeB ? call("Transpose", backend, { x: b }, { perm: swapLastTwo(b.shape.length) }) : b;
      const result = callOriginal("BatchMatMul", backend, { a: left, b: right }, { ...attrs, transposeA: false, transposeB: false });
      if (transposeA) release(backend, left);
      if (transposeB) release(backend, right);
      return result;
    },
  };
}

function replaceKernel(tf: TensorFlowModule, name: string, build: (original: KernelConfig) => KernelConfig): void {
  const original = tf.getKernel(name, BACKEND);
  if (!original) throw new Error(`wasm kernel ${name} is not registered`);
  if ((original as { podtrain?: boolean }).podtrain) return; // already replaced
  tf.unregisterKernel(name, BACKEND);
  tf.registerKernel({ ...build(original), podtrain: true } as KernelConfig);
}

/**
 * Registers the training kernels. Call after the wasm backend is initialised (tf.ready()), so that
 * the replaced kernels' setup functions have already bound their WebAssembly exports. Idempotent.
 */
export function registerWasmGradientKernels(tf: TensorFlowModule): void {
  if (!tf.getKernel("Conv2DBackpropFilter", BACKEND)) tf.registerKernel(conv2dBackpropFilter(tf));
  replaceKernel(tf, "Conv2DBackpropInput", (original) => conv2dBackpropInput(tf, original));
  replaceKernel(tf, "BatchMatMul", (original) => batchMatMul(tf, original));
}
