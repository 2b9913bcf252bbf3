// How ops read their inputs: the tensor behind a Var, or a constant Tensor (ops that need a shape take no numbers).
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { Var, type VarLike } from './engine.js';

/** An input value as a VJP sees it: a Var's value, or the constant as passed. */
export type In = Tensor | number;
/** A type assertion (no conversion): for inputs that the op only accepts as tensors. */
export const asTensor = (x: In) => x as Tensor;

/** The tensor behind a Var or Tensor argument (ops that need its shape do not accept plain numbers). */
export function valueOf(op: string, x: VarLike): Tensor {
  if (x instanceof Var) return x.value;
  if (x instanceof T.Tensor) return x;
  throw new T.ValueError(op, `needs a Var or a Tensor, got ${typeof x}`);
}

/** valueOf, refusing int32 where the op needs floats. */
export function floatValue(op: string, x: VarLike): Tensor {
  const v = valueOf(op, x);
  if (v.dtype === 'int32') throw new T.DTypeError(op, `needs a float32 or float64 tensor, got int32[${v.shape}]; cast it first`);
  return v;
}
