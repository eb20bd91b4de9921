/**
 * The parts of `@jax-js/jax` a model body or a hand-written loop needs, re-exported so that
 * users import them from `softmax-ghosts/engine` and always get the exact engine build this
 * package runs on (pinned), never whichever copy npm happened to hoist.
 */
export {
  type Array as JaxArray,
  type DType,
  grad,
  type JsTree,
  type JsTreeDef,
  jit,
  jvp,
  lax,
  nn,
  numpy,
  type OwnedFunction,
  random,
  tree,
  valueAndGrad,
} from "@jax-js/jax";
