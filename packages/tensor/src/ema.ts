// The exponential moving average update of a shadow weight, shadow ← d·shadow + (1 − d)·value: one fused pass where the
// backend has it (wasm), else the composite of two products and a sum (the same operations, so the same bits).
import { getBackend } from './backend.js';
import { ShapeError, ValueError, fmt } from './errors.js';
import { input, needFloat, sameDType, wrap } from './internal.js';
import { add, mul } from './ops.js';
import { sameShape } from './shape.js';
import type { Tensor } from './tensor.js';

/**
 * d·shadow + (1 − d)·value for a decay d in [0, 1] (Polyak averaging of the weights, as torch-ema and torchcfm's
 * `ema` do): a new tensor of shadow's shape. shadow and value: one shape, one float dtype.
 */
export function emaUpdate(shadow: Tensor, value: Tensor, decay: number): Tensor {
  const [s, x] = [input('emaUpdate', shadow, 'shadow'), input('emaUpdate', value, 'value')];
  const dtype = sameDType('emaUpdate', s, x);
  needFloat('emaUpdate', s);
  if (!sameShape(s.shape, x.shape)) throw new ShapeError('emaUpdate', `shadow and value need one shape, got ${fmt(s.shape)} and ${fmt(x.shape)}`);
  if (!(decay >= 0 && decay <= 1)) throw new ValueError('emaUpdate', `decay must be in [0, 1], got ${decay}`);
  const fused = getBackend().fusedUpdate?.('ema', [s, x], [decay, 1 - decay]);
  if (fused) return wrap(fused[0], s.shape, dtype);
  const kept = mul(s, decay);
  const added = mul(x, 1 - decay);
  const out = add(kept, added);
  kept.dispose();
  added.dispose();
  return out;
}
