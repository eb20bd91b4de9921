/**
 * Residual CNNs for the natural-instability experiment (docs/science.md §5): a small residual network
 * for the 8×8 digits (`resnet-small`) and the standard CIFAR ResNet-18 (`resnet18`: 3×3
 * stem, four stages of two BasicBlocks at 64/128/256/512 channels, stride-2 downsampling
 * with 1×1 projection shortcuts, BatchNorm, global average pooling, linear head).
 *
 * Both read a flat input row as a channel-first image: `inputDim = s²` is one channel of
 * side s (digits: 64 = 1×8×8), `inputDim = 3·s²` three channels (CIFAR-10: 3072 = 3×32×32);
 * no integer is both. Convolutions have no bias (each feeds a BatchNorm, which has its own
 * shift), weights ~ U(±1/√fan_in) like the other architectures.
 *
 * Convolutions are im2col + one batched matmul, like `convSame` in layers.ts (jax-js's
 * `lax.conv` is far slower on wasm); stride 2 is done without strided slices (which jax-js
 * lacks) by viewing the padded input as 2×2 phases, so no work is wasted on the skipped
 * output positions.
 */
import { type FloatDType, type DeviceArray as JaxArray, toDevice } from "../engine/arrays.js";
import * as op from "../engine/ops.js";
import { Rng } from "../util/random.js";
import { exactSqrt, ModelConfigError, makeModel, resolveConfig } from "./common.js";
import {
  batchNorm1d,
  dense,
  initBatchNormState,
  initDense,
  initNormAffine,
  isTreeNode,
  paramGroup,
  paramLeaf,
  relu,
} from "./layers.js";
import type { Model, ModelConfig, ModelState, Params } from "./types.js";

/** The image a flat input row is read as. */
export interface ImageShape {
  /** 1 (grey) or 3 (RGB). */
  channels: number;
  /** Height = width. */
  side: number;
}

/**
 * The channel-first square image of `inputDim` features: `s²` → 1×s×s, `3·s²` → 3×s×s.
 *
 * @throws {ModelConfigError} when `inputDim` is neither.
 */
export function imageShapeOf(name: string, inputDim: number): ImageShape {
  const grey = exactSqrt(inputDim);
  if (grey !== null) return { channels: 1, side: grey };
  const rgb = inputDim % 3 === 0 ? exactSqrt(inputDim / 3) : null;
  if (rgb !== null) return { channels: 3, side: rgb };
  throw new ModelConfigError(
    `${name}: inputDim ${inputDim} is neither s² (one s×s channel, e.g. 64 = 8×8 digits) nor ` +
      `3·s² (RGB, e.g. 3072 = 3×32×32 CIFAR-10)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Layers

/**
 * 2-D convolution without bias, square kernel k ∈ {1, 3, 5, …} with zero padding (k−1)/2
 * ("same" at stride 1), stride 1 or 2 (then H and W must be even and the output is
 * H/2 × W/2, PyTorch's `Conv2d(k, stride=2, padding=(k−1)/2)`).
 * x [B, Cin, H, W], w [Cout, Cin, k, k].
 */
export function conv2d(w: JaxArray, x: JaxArray, stride: 1 | 2): JaxArray {
  const [b, c, h, wd] = x.shape as [number, number, number, number];
  const [co, ci, kh, kw] = w.shape as [number, number, number, number];
  if (x.ndim !== 4 || w.ndim !== 4 || ci !== c || kh !== kw || kh % 2 !== 1) {
    const shapes = `kernel [${w.shape}], input [${x.shape}]`;
    throw new ModelConfigError(`conv2d: needs an odd square kernel over [B, C, H, W]; ${shapes}`);
  }
  if (stride === 2 && (h % 2 !== 0 || wd % 2 !== 0)) {
    throw new ModelConfigError(`conv2d: stride 2 needs even sides, got ${h}×${wd}`);
  }
  const k = kh;
  const pad = (k - 1) / 2;
  const ho = h / stride;
  const wo = wd / stride;
  let patches: JaxArray;
  if (k === 1 && stride === 1) {
    patches = op.reshape(x, [b, c, h * wd]);
  } else {
    const xp =
      pad > 0
        ? op.pad(x, [
            [0, 0],
            [0, 0],
            [pad, pad],
            [pad, pad],
          ])
        : x;
    const hp = h + 2 * pad;
    const wp = wd + 2 * pad;
    // Stride 2: padded row 2·o + i lies in phase i mod 2 at block o + ⌊i/2⌋.
    const src = stride === 1 ? xp : op.reshape(xp, [b, c, hp / 2, 2, wp / 2, 2]);
    const cols: JaxArray[] = [];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        cols.push(
          stride === 1
            ? op.slice(src, [], [], [i, i + ho], [j, j + wo])
            : op.slice(src, [], [], [i >> 1, (i >> 1) + ho], i & 1, [j >> 1, (j >> 1) + wo], j & 1),
        );
      }
    }
    patches = op.reshape(cols.length === 1 ? cols[0]! : op.stack(cols, 2), [b, c * k * k, ho * wo]);
  }
  // (a 2-D lhs against a 3-D rhs hits a jax-js matmul bug, so the weight gets a batch axis)
  const y = op.matmul(op.reshape(w, [1, co, c * k * k]), patches);
  return op.reshape(y, [b, co, ho, wo]);
}

/** BatchNorm over the channels of x [B, C, H, W] (statistics over batch, height and width). */
function batchNorm2d(
  p: Params,
  s: ModelState,
  x: JaxArray,
  mode: "train" | "eval",
): { y: JaxArray; state?: ModelState } {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  const out = batchNorm1d(p, s, op.reshape(x, [b, c, h * w]), mode);
  return { y: op.reshape(out.y, [b, c, h, w]), state: out.state };
}

function stateGroup(name: string, s: ModelState, key: string): ModelState {
  const v = s[key];
  if (v === undefined || !isTreeNode(v)) {
    throw new ModelConfigError(`${name}: missing BatchNorm running statistics "${key}" in state`);
  }
  return v as ModelState;
}

/** conv → BN, returning the BN's new running statistics under `key` of `newState`. */
function convBn(
  name: string,
  p: Params,
  s: ModelState,
  x: JaxArray,
  conv: string,
  bn: string,
  stride: 1 | 2,
  mode: "train" | "eval",
  newState: ModelState,
): JaxArray {
  const h = conv2d(paramLeaf(paramGroup(p, conv), "w"), x, stride);
  const out = batchNorm2d(paramGroup(p, bn), stateGroup(name, s, bn), h, mode);
  if (out.state) newState[bn] = out.state;
  return out.y;
}

/** Layout of one BasicBlock. */
export interface BlockSpec {
  /** Key of the block's parameter and state groups. */
  key: string;
  inChannels: number;
  outChannels: number;
  stride: 1 | 2;
}

/** A block needs a 1×1 projection shortcut when it changes the shape. */
function hasProjection(spec: BlockSpec): boolean {
  return spec.stride !== 1 || spec.inChannels !== spec.outChannels;
}

/**
 * BasicBlock: relu(BN(conv3×3(relu(BN(conv3×3(x, stride))))) + shortcut(x)), where the
 * shortcut is x itself or BN(conv1×1(x, stride)). In its own tidy, so that an eager forward
 * pass holds one block's intermediates at a time.
 */
function basicBlock(
  name: string,
  spec: BlockSpec,
  p: Params,
  s: ModelState,
  x: JaxArray,
  mode: "train" | "eval",
): { y: JaxArray; state: ModelState } {
  return op.tidy(() => {
    const state: ModelState = {};
    let h = relu(convBn(name, p, s, x, "conv1", "bn1", spec.stride, mode, state));
    h = convBn(name, p, s, h, "conv2", "bn2", 1, mode, state);
    const shortcut = hasProjection(spec)
      ? convBn(name, p, s, x, "proj", "projBn", spec.stride, mode, state)
      : x;
    return { y: relu(op.add(h, shortcut)), state };
  });
}

// ---------------------------------------------------------------------------------------------
// Initialisation

/** Bias-free conv weight [out, in, k, k] ~ U(±1/√(in·k²)) (PyTorch's default bound). */
function initConvWeight(
  seed: number,
  path: string,
  inChannels: number,
  outChannels: number,
  k: number,
  dtype: FloatDType,
): Params {
  const fanIn = inChannels * k * k;
  const bound = 1 / Math.sqrt(fanIn);
  const values = new Rng(seed).fork(`${path}.w`).uniformArray(outChannels * fanIn, -bound, bound);
  return { w: toDevice(values, [outChannels, inChannels, k, k], dtype) };
}

function initBlock(
  seed: number,
  spec: BlockSpec,
  dtype: FloatDType,
): { params: Params; state: ModelState } {
  const { key, inChannels: ci, outChannels: co } = spec;
  const params: Params = {
    conv1: initConvWeight(seed, `${key}.conv1`, ci, co, 3, dtype),
    bn1: initNormAffine(co, dtype),
    conv2: initConvWeight(seed, `${key}.conv2`, co, co, 3, dtype),
    bn2: initNormAffine(co, dtype),
  };
  const state: ModelState = {
    bn1: initBatchNormState(co, dtype),
    bn2: initBatchNormState(co, dtype),
  };
  if (hasProjection(spec)) {
    params.proj = initConvWeight(seed, `${key}.proj`, ci, co, 1, dtype);
    params.projBn = initNormAffine(co, dtype);
    state.projBn = initBatchNormState(co, dtype);
  }
  return { params, state };
}

// ---------------------------------------------------------------------------------------------
// Networks

/** Widths and depths of a residual network. */
export interface ResNetLayout {
  /** Channels of the 3×3 stem convolution. */
  stemChannels: number;
  /** Per stage: output channels and number of BasicBlocks; stages after the first halve the side. */
  stages: readonly { channels: number; blocks: number }[];
}

/** `resnet-small`: stem 16, one stage of two 16-channel blocks, no downsampling. */
export const RESNET_SMALL_LAYOUT: ResNetLayout = {
  stemChannels: 16,
  stages: [{ channels: 16, blocks: 2 }],
};

/** `resnet18`: the CIFAR ResNet-18 (stem 64, stages [2, 2, 2, 2] at 64/128/256/512). */
export const RESNET18_LAYOUT: ResNetLayout = {
  stemChannels: 64,
  stages: [
    { channels: 64, blocks: 2 },
    { channels: 128, blocks: 2 },
    { channels: 256, blocks: 2 },
    { channels: 512, blocks: 2 },
  ],
};

/** The blocks of a layout in order, keyed `stage<i>_<j>` (1-based stage, 0-based block). */
export function resnetBlocks(layout: ResNetLayout): BlockSpec[] {
  const out: BlockSpec[] = [];
  let ch = layout.stemChannels;
  layout.stages.forEach((stage, si) => {
    for (let bi = 0; bi < stage.blocks; bi++) {
      const stride: 1 | 2 = si > 0 && bi === 0 ? 2 : 1;
      out.push({
        key: `stage${si + 1}_${bi}`,
        inChannels: ch,
        outChannels: stage.channels,
        stride,
      });
      ch = stage.channels;
    }
  });
  return out;
}

/** Build options of {@link buildResNet}. */
export interface ResNetOptions {
  /**
   * Elements of im2col patches an eval-mode forward may hold at once (default 2^27); larger
   * batches are evaluated in chunks. Eval mode is per-sample, so chunking changes nothing
   * but the memory peak.
   */
  evalPatchBudget?: number;
}

/**
 * A residual network with the given layout: stem conv3×3 → BN → ReLU, the BasicBlocks,
 * global average pool, linear head. Parameters: `stem {conv {w}, bn {gamma, beta}}`, one
 * group per block (`conv1, bn1, conv2, bn2` and, when the shape changes, `proj, projBn`),
 * `head {w, b}`; state mirrors the BatchNorm groups with `{mean, var}`.
 */
export function buildResNet(
  name: string,
  config: ModelConfig,
  layout: ResNetLayout,
  options: ResNetOptions = {},
): Model {
  const cfg = resolveConfig(config);
  const { channels, side } = imageShapeOf(name, cfg.inputDim);
  const blocks = resnetBlocks(layout);
  const downsamples = blocks.filter((b) => b.stride === 2).length;
  if (side % 2 ** downsamples !== 0) {
    throw new ModelConfigError(
      `${name}: image side ${side} must be divisible by ${2 ** downsamples} for its ` +
        `${downsamples} stride-2 stages`,
    );
  }
  const width = blocks.length > 0 ? blocks[blocks.length - 1]!.outChannels : layout.stemChannels;

  const init = (seed: number) => {
    const params: Params = {
      stem: {
        conv: initConvWeight(seed, "stem.conv", channels, layout.stemChannels, 3, cfg.dtype),
        bn: initNormAffine(layout.stemChannels, cfg.dtype),
      },
    };
    const state: ModelState = { stem: { bn: initBatchNormState(layout.stemChannels, cfg.dtype) } };
    for (const spec of blocks) {
      const b = initBlock(seed, spec, cfg.dtype);
      params[spec.key] = b.params;
      state[spec.key] = b.state;
    }
    params.head = initDense(seed, "head", width, cfg.numClasses, cfg.dtype);
    return { params, state };
  };

  const body = (
    params: Params,
    x: JaxArray,
    state: ModelState,
    mode: "train" | "eval",
  ): { logits: JaxArray; state?: ModelState } => {
    const b = x.shape[0]!;
    const newState: ModelState = {};
    const stemState: ModelState = {};
    let h = convBn(
      name,
      paramGroup(params, "stem"),
      stateGroup(name, state, "stem"),
      op.reshape(x, [b, channels, side, side]),
      "conv",
      "bn",
      1,
      mode,
      stemState,
    );
    newState.stem = stemState;
    h = relu(h);
    for (const spec of blocks) {
      const out = basicBlock(
        name,
        spec,
        paramGroup(params, spec.key),
        stateGroup(name, state, spec.key),
        h,
        mode,
      );
      h = out.y;
      newState[spec.key] = out.state;
    }
    const [, c, hh, ww] = h.shape as [number, number, number, number];
    const pooled = op.meanOver(op.reshape(h, [b, c, hh * ww]), 2);
    const logits = dense(paramGroup(params, "head"), pooled);
    return mode === "train" ? { logits, state: newState } : { logits };
  };

  // Eval mode is per-sample (running statistics), so a large batch — a whole test split —
  // can be cut into chunks whose im2col patches stay within a fixed memory budget; on
  // wasm's 4 GB address space a 1024-image CIFAR chunk would otherwise need 2.4 GB at once.
  const perSample = Math.max(
    channels * 9 * side * side,
    ...blocks.map((spec) => {
      const s = side >> downsamplesBefore(blocks, spec);
      return spec.inChannels * 9 * s * s;
    }),
  );
  const evalChunk = Math.max(
    1,
    Math.floor((options.evalPatchBudget ?? EVAL_PATCH_BUDGET) / perSample),
  );
  return makeModel(name, cfg, init, (params, x, state, mode) => {
    const b = x.shape[0]!;
    if (mode === "train" || b <= evalChunk) return body(params, x, state, mode);
    const parts: JaxArray[] = [];
    for (let start = 0; start < b; start += evalChunk) {
      const end = Math.min(b, start + evalChunk);
      // One chunk's intermediates at a time.
      parts.push(op.tidy(() => body(params, op.slice(x, [start, end]), state, mode).logits));
    }
    return { logits: op.concatenate(parts, 0) };
  });
}

/** Elements of im2col patches one eval chunk may hold (2^27 floats = 512 MB in float32). */
const EVAL_PATCH_BUDGET = 2 ** 27;

/** Number of stride-2 blocks before `spec`: its input has side `side >> n`. */
function downsamplesBefore(blocks: BlockSpec[], spec: BlockSpec): number {
  let n = 0;
  for (const b of blocks) {
    if (b === spec) break;
    if (b.stride === 2) n++;
  }
  return n;
}

/** `resnet-small` for digits-sized images (see {@link RESNET_SMALL_LAYOUT}). */
export function buildResNetSmall(config: ModelConfig): Model {
  return buildResNet("resnet-small", config, RESNET_SMALL_LAYOUT);
}

/** `resnet18`, the CIFAR ResNet-18 (see {@link RESNET18_LAYOUT}); 3072 inputs = 3×32×32. */
export function buildResNet18(config: ModelConfig): Model {
  return buildResNet("resnet18", config, RESNET18_LAYOUT);
}
