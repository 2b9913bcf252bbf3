// The tensor behind a Var or Tensor argument, checked at run time (for composites that read a shape before applying ops).
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { Var, type VarLike } from './engine.js';

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
