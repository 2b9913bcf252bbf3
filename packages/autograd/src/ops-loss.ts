// Classification losses: log-softmax and the cross-entropy of logits against integer labels, as composites.
import * as T from '@rill/tensor';
import type { TensorArg, Var } from './engine.js';
import { valueOf } from './inputs.js';
import { exp, log, mul, sub } from './ops.js';
import { max, mean, sum } from './ops-reduce.js';

/**
 * log softmax(x) along `axis` (default the last): x − m − log Σ exp(x − m), with m the maximum along the axis, so no
 * exponential overflows. (m's own gradient cancels: ∂/∂m of m + log Σ e^{x−m} is 1 − 1.)
 */
export function logSoftmax(x: TensorArg, axis = -1): Var {
  const m = max(x, axis, true);
  const shifted = sub(x, m);
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}

/**
 * The mean cross-entropy −(1/B) Σ_b log softmax(logits_b)[y_b] of logits (B, K) against labels y (B) in [0, K): PyTorch's
 * nn.CrossEntropyLoss with its default mean reduction.
 */
export function crossEntropy(logits: TensorArg, labels: T.Tensor | ArrayLike<number>): Var {
  const [b, k] = valueOf('crossEntropy', logits).shape;
  const y = labels instanceof T.Tensor ? labels.data : labels;
  if (valueOf('crossEntropy', logits).rank !== 2 || y.length !== b) throw new T.ShapeError('crossEntropy', `needs logits (B, K) and B labels, got [${valueOf('crossEntropy', logits).shape}] and ${y.length} labels`);
  const onehot = new Float64Array(b * k);
  for (let i = 0; i < b; i++) {
    if (!(Number.isInteger(y[i]) && y[i] >= 0 && y[i] < k)) throw new T.ValueError('crossEntropy', `label ${i} is ${y[i]}; labels are integers in [0, ${k})`);
    onehot[i * k + y[i]] = 1;
  }
  const mask = T.tensor(onehot, { shape: [b, k], dtype: valueOf('crossEntropy', logits).dtype });
  return mul(mean(sum(mul(logSoftmax(logits, 1), mask), 1)), -1);
}
