// Functional transforms: grad, valueAndGrad, vjp and jacobian of a function of Vars, without touching any state.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { AutogradError, Var } from './engine.js';

/** A function of Vars returning one Var, as the transforms accept it. */
export type VarFn = (...xs: Var[]) => Var;

/** Fresh leaves for the arguments: the caller's tensors (or Vars) are never given gradients. */
const leaves = (xs: (Tensor | Var)[]) => xs.map((x) => new Var(x instanceof Var ? x.value : x, { requiresGrad: true }));

/** Takes each leaf's gradient (zeros where none flowed) and leaves the leaf without one. */
function takeGrads(xs: Var[]): Tensor[] {
  return xs.map((x) => {
    const g = x.grad ?? T.zeros([...x.shape], { dtype: x.dtype });
    x.grad = null;
    return g;
  });
}

/**
 * The value of f and its gradients with respect to every argument (in argument order), for a scalar-valued f.
 * @example valueAndGrad((x, y) => sum(mul(x, y)))(a, b)  // { value: Σ a·b, grads: [b, a] }
 */
export function valueAndGrad(f: VarFn): (...xs: (Tensor | Var)[]) => { value: Tensor; grads: Tensor[] } {
  return (...xs) => {
    const inputs = leaves(xs);
    const out = f(...inputs);
    if (out.value.size !== 1) {
      throw new AutogradError('grad', `f must return a single value, got shape [${out.shape}]; use vjp for other outputs`);
    }
    if (!out.requiresGrad) return { value: out.value, grads: takeGrads(inputs) }; // f ignored its inputs
    out.backward();
    return { value: out.value, grads: takeGrads(inputs) };
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
export function vjp(f: VarFn, ...xs: (Tensor | Var)[]): { value: Tensor; vjp: (cotangent: Tensor) => Tensor[] } {
  const inputs = leaves(xs);
  const out = f(...inputs);
  return {
    value: out.value,
    vjp: (cotangent) => {
      if (out.requiresGrad) out.backward(cotangent, { retainGraph: true });
      return takeGrads(inputs);
    },
  };
}

/**
 * The full Jacobian ∂f(x)/∂x, of shape [...f(x).shape, ...x.shape], one backward pass per output element
 * (so: for small outputs, e.g. the exact divergence of a 2D velocity field, or a flow layer's log-determinant test).
 */
export function jacobian(f: (x: Var) => Var, x: Tensor | Var): Tensor {
  const { value, vjp: pullback } = vjp(f as VarFn, x);
  const xv = x instanceof Var ? x.value : x;
  const rows = new Float64Array(value.size * xv.size);
  for (let i = 0; i < value.size; i++) {
    const oneHot = T.tidy(() => T.reshape(T.scatterAdd(T.ones([1], { dtype: value.dtype }), [i], value.size), [...value.shape]));
    const [row] = pullback(oneHot);
    rows.set(row.data, i * xv.size);
    row.dispose();
    oneHot.dispose();
  }
  return T.tensor(rows, { shape: [...value.shape, ...xv.shape], dtype: value.dtype });
}
