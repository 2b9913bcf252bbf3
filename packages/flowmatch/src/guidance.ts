// Classifier-free guidance: the velocity of a class-conditional field pushed away from its unconditional one,
//   ũ(x, t, y) = u(x, t, ∅) + w · (u(x, t, y) − u(x, t, ∅)),
// w = 0 the unconditional field, w = 1 the conditional one, w > 1 guided. Ho & Salimans, "Classifier-Free Diffusion
// Guidance" (2022) write the same with their w + 1 in place of this w (their w = 0 is conditional); the MIT 6.S184
// notes (lecture 5) use this w. A guided field costs two network evaluations per call, made as one batched forward
// pass over [x; x] with labels [y; ∅].
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import type { FieldModel } from './train-config.js';
import type { Field } from './solvers.js';

/** A Field, and how many network evaluations each call of it costs (the NFE a solver reports, times this). */
export type GuidedField = Field & {
  /** Network evaluations per call: 2 for a guided field, 1 for w = 0 or w = 1. */
  readonly evaluationsPerCall: number;
};

/**
 * The guided field as a differentiable function of x (a DiffField, for logProb's divergence): the same ũ, on Vars,
 * from one batched forward pass. `evaluationsPerCall` as for {@link guidedField}.
 */
export function guidedDiffField(model: FieldModel, label: number, w = 1): ((x: A.Var, t: number) => A.Var) & {
  /** Network evaluations per call: 2 for a guided field, 1 for w = 0 or w = 1. */
  readonly evaluationsPerCall: number;
} {
  guidedField(model, label, w); // the same checks
  const K = model.config.classes;
  if (w === 1 || w === 0) return Object.assign((x: A.Var, t: number) => model.forward(x, t, w === 1 ? label : K), { evaluationsPerCall: 1 });
  const field = (x: A.Var, t: number) => {
    const B = x.shape[0];
    const both = model.forward(A.concat([x, x], 0), t, Int32Array.from({ length: 2 * B }, (_, i) => (i < B ? label : K)));
    const [conditional, unconditional] = [A.slice(both, [0], [B]), A.slice(both, [B], [2 * B])];
    return A.add(unconditional, A.mul(A.sub(conditional, unconditional), w));
  };
  return Object.assign(field, { evaluationsPerCall: 2 });
}

/** The guided field ũ(·, ·, y) of a class-conditional model for class `label` at guidance scale `w` ≥ 0. */
export function guidedField(model: FieldModel, label: number, w = 1): GuidedField {
  const K = model.config.classes;
  if (K === 0) throw new T.ValueError('guidedField', 'the model is unconditional (trained without classes): train it with classes (rill train --cond class)');
  if (!(Number.isInteger(label) && label >= 0 && label < K)) throw new T.ValueError('guidedField', `label must be an integer in [0, ${K}), got ${label}`);
  if (!(w >= 0 && Number.isFinite(w))) throw new T.ValueError('guidedField', `the guidance scale w must be finite and ≥ 0, got ${w}`);
  const once = (y: number) => (x: T.Tensor, t: number) => T.tidy(() => A.noGrad(() => model.forward(x, t, y).value));
  if (w === 1) return Object.assign(once(label), { evaluationsPerCall: 1 });
  if (w === 0) return Object.assign(once(K), { evaluationsPerCall: 1 });
  const field: Field = (x, t) =>
    T.tidy(() => {
      const B = x.shape[0];
      const labels = Int32Array.from({ length: 2 * B }, (_, i) => (i < B ? label : K));
      const both = A.noGrad(() => model.forward(T.concat([x, x], 0), t, labels).value); // one batched call: (2B, D)
      const conditional = T.slice(both, [0], [B]);
      const unconditional = T.slice(both, [B], [2 * B]);
      return T.add(unconditional, T.mul(T.sub(conditional, unconditional), w));
    });
  return Object.assign(field, { evaluationsPerCall: 2 });
}
