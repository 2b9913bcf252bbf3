// Functional transforms: grad, valueAndGrad, vjp and jacobian of a function of Vars, without touching any state.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { AutogradError, backpropagate, Var } from './engine.js';

/** A function of Vars returning one Var, as the transforms accept it. */
export type VarFn = (...xs: Var[]) => Var;

/** Fresh leaves for the arguments: the caller's tensors (or Vars) are never given gradients. */
const leaves = (xs: (Tensor | Var)[]) => xs.map((x) => new Var(x instanceof Var ? x.value : x, { requiresGrad: true }));

/**
 * ∂(cotangentᵀ·out)/∂x for each of the leaves xs (zeros where nothing flows), computed without writing any Var's
 * .grad — also not of Vars that f captured, like model parameters. The results belong to the caller's tidy scope.
 */
function gradientsOf(out: Var, xs: Var[], cotangent: Tensor | undefined, retainGraph: boolean): Tensor[] {
  const got = out.requiresGrad ? backpropagate(out, cotangent, retainGraph, xs) : new Map<Var, Tensor>();
  return xs.map((x) => got.get(x) ?? T.zeros([...x.shape], { dtype: x.dtype }));
}

/**
 * The value of f and its gradients with respect to every argument (in argument order), for a scalar-valued f.
 * Nothing is mutated: Vars that f closes over (parameters) keep their .grad.
 * @example valueAndGrad((x, y) => sum(mul(x, y)))(a, b)  // { value: Σ a·b, grads: [b, a] }
 */
export function valueAndGrad(f: VarFn): (...xs: (Tensor | Var)[]) => {
  /** f(...xs), a one-element tensor. */
  value: Tensor;
  /** ∂f/∂xᵢ for every argument, in argument order, each of that argument's shape (zeros where nothing flows). */
  grads: Tensor[];
} {
  return (...xs) => {
    const inputs = leaves(xs);
    const out = f(...inputs);
    if (out.value.size !== 1) {
      throw new AutogradError('grad', `f must return a single value, got shape [${out.shape}]; use vjp for other outputs`);
    }
    return { value: out.value, grads: gradientsOf(out, inputs, undefined, false) };
  };
}

/** The gradients of a scalar-valued f with respect to every argument, in argument order. */
export function grad(f: VarFn): (...xs: (Tensor | Var)[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...xs) => vg(...xs).grads;
}

/**
 * f's value and its vector-Jacobian product: `vjp(cotangent)` returns cᵀ·∂f/∂xᵢ for every argument.
 * It may be called many times (the graph is retained).
 */
export function vjp(
  f: VarFn,
  ...xs: (Tensor | Var)[]
): {
  /** f(...xs). */
  value: Tensor;
  /**
   * cᵀ·∂f/∂xᵢ for every argument, in argument order (zeros where nothing flows); throws AutogradError unless the
   * cotangent c has f's output shape.
   */
  vjp: (cotangent: Tensor) => Tensor[];
} {
  const inputs = leaves(xs);
  const out = f(...inputs);
  return {
    value: out.value,
    vjp: (cotangent) => {
      if (!(cotangent instanceof T.Tensor) || cotangent.shape.join() !== out.shape.join()) {
        throw new AutogradError('vjp', `the cotangent must have the output's shape [${out.shape}], got [${cotangent?.shape}]`);
      }
      return gradientsOf(out, inputs, cotangent, true);
    },
  };
}

/**
 * The full Jacobian ∂f(x)/∂x, of shape [...f(x).shape, ...x.shape], one backward pass per output element
 * (so: for small outputs, e.g. the exact divergence of a 2D velocity field, or a flow layer's log-determinant test).
 */
export function jacobian(f: (x: Var) => Var, x: Tensor | Var): Tensor {
  return T.tidy(() => {
    const { value, vjp: pullback } = vjp(f as VarFn, x);
    const xv = x instanceof Var ? x.value : x;
    const rows = new Float64Array(value.size * xv.size);
    for (let i = 0; i < value.size; i++) {
      T.tidy(() => {
        const oneHot = T.reshape(T.scatterAdd(T.ones([1], { dtype: value.dtype }), [i], value.size), [...value.shape]);
        rows.set(pullback(oneHot)[0].data, i * xv.size);
        return undefined;
      });
    }
    return T.tensor(rows, { shape: [...value.shape, ...xv.shape], dtype: value.dtype });
  });
}
