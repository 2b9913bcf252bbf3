// The whole reverse-mode engine: Var (a value and how it was made), recording ops as they run, and backward().
import * as T from '@rill/tensor';
import { Tensor } from '@rill/tensor';

/** What an op's VJP sees: the input values of the forward call (tensors or plain numbers), its output, its attributes. */
export interface Context<A> {
  inputs: (Tensor | number)[];
  output: Tensor;
  attrs: A;
}

/**
 * A differentiable op, defined once: `forward` computes the output from input values; `vjp` maps the output's
 * gradient dy to one gradient per input, the vector-Jacobian product dyᵀ·∂y/∂xᵢ (null where none flows).
 * With `broadcasts`, an input's gradient may have the broadcast (output) shape: the engine sums it back.
 */
export interface OpDef<A = undefined> {
  name: string;
  forward(inputs: (Tensor | number)[], attrs: A): Tensor;
  vjp(dy: Tensor, ctx: Context<A>): (Tensor | number | null)[];
  broadcasts?: boolean;
}

/** How a non-leaf Var was made. Dropped (freed) after backward unless retainGraph. */
interface Node {
  op: OpDef<unknown>;
  parents: (Var | null)[]; // null where the input was a constant (Tensor or number)
  ctx: Context<unknown>;
}

/** A thrown error from the engine (graph misuse, bad seeds, a VJP returning a wrong shape); names the op. */
export class AutogradError extends T.RillError {}

let recording = true;

/** Runs fn without recording a graph: results are constants (no parents, requiresGrad false). */
export function noGrad<R>(fn: () => R): R {
  const before = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = before;
  }
}

export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (it is freed by default). */
  retainGraph?: boolean;
}

/**
 * A node of the computation graph: a Tensor `value`, and — when it was computed from Vars that require gradients —
 * the op and parents that made it. Leaves (no parents) with `requiresGrad` receive `.grad` from backward().
 */
export class Var {
  readonly value: Tensor;
  /** ∂(what backward started from)/∂this, accumulated over backward() calls; leaves only. */
  grad: Tensor | null = null;
  readonly requiresGrad: boolean;
  #node: Node | null = null;
  #freed = false;

  constructor(value: Tensor, options: { requiresGrad?: boolean } = {}) {
    if (!(value instanceof Tensor)) throw new AutogradError('Var', `value must be a Tensor, got ${typeof value}`);
    this.value = value;
    this.requiresGrad = options.requiresGrad ?? false;
  }

  get shape(): readonly number[] {
    return this.value.shape;
  }

  get dtype(): T.DType {
    return this.value.dtype;
  }

  /** True for Vars made by the user (no op recorded). */
  get isLeaf(): boolean {
    return this.#node === null;
  }

  /** Name of the op that made this Var, or null for a leaf. */
  get op(): string | null {
    return this.#node?.op.name ?? null;
  }

  /** @internal Records how the Var was made; called by apply(). */
  static fromOp(value: Tensor, node: Node): Var {
    const v = new Var(value, { requiresGrad: true });
    v.#node = node;
    return v;
  }

  /** A Var with the same value and no history: gradients stop here. */
  detach(): Var {
    return new Var(this.value);
  }

  /** Disposes and clears the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /**
   * Backpropagates from this Var: for every leaf with requiresGrad, leaf.grad += ∂(seedᵀ·this)/∂leaf.
   * `seed` defaults to 1 and may be omitted only for a one-element Var.
   */
  backward(seed?: Tensor, options: BackwardOptions = {}): void {
    if (!this.requiresGrad) throw new AutogradError('backward', 'this Var does not require gradients (no input had requiresGrad)');
    if (seed === undefined && this.value.size !== 1) {
      throw new AutogradError('backward', `needs a seed gradient for a non-scalar output of shape [${this.shape}]`);
    }
    if (seed !== undefined && (seed.shape.join() !== this.shape.join() || seed.dtype !== this.dtype)) {
      throw new AutogradError('backward', `seed is ${seed.dtype}[${seed.shape}] but the output is ${this.dtype}[${this.shape}]`);
    }
    // Everything made during the walk is disposed when it ends, except the leaves' gradients (kept).
    T.tidy(() => {
      const grads = new Map<Var, Tensor>([[this, seed ?? T.ones([...this.shape], { dtype: this.dtype })]]);
      // Reverse topological order: a Var is processed only after every Var that uses it has sent its gradient.
      for (const v of topologicalOrder(this).reverse()) {
        const dy = grads.get(v);
        if (dy === undefined) continue;
        if (v.#node === null) {
          const total = v.grad ? T.add(v.grad, dy) : T.clone(dy);
          v.grad?.dispose();
          v.grad = T.keep(total);
          continue;
        }
        if (v.#freed) {
          throw new AutogradError('backward', `the graph through '${v.#node.op.name}' was freed by an earlier backward(); pass { retainGraph: true } to the first call`);
        }
        const { op, parents, ctx } = v.#node;
        const inputGrads = vjpOf(op, dy, ctx);
        parents.forEach((p, i) => {
          const g = inputGrads[i];
          if (p === null || !p.requiresGrad || g === null || g === undefined) return;
          const fitted = fitToShape(op, g, p, ctx.inputs[i]);
          const prev = grads.get(p);
          grads.set(p, prev ? T.add(prev, fitted) : fitted); // a Var used twice receives the sum (+=)
        });
        if (!options.retainGraph) v.#freed = true;
      }
      return undefined;
    });
  }

  /** @internal The parents of a recorded Var (for the topological sort). */
  static parentsOf(v: Var): (Var | null)[] {
    return v.#freed ? [] : (v.#node?.parents ?? []);
  }

  toString(): string {
    return `Var(${this.value.toString()}${this.op ? `, op=${this.op}` : ''}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** Runs an op's VJP, explaining the usual cause when a value it saved was disposed before backward(). */
function vjpOf(op: OpDef<unknown>, dy: Tensor, ctx: Context<unknown>): (Tensor | number | null)[] {
  try {
    return op.vjp(dy, ctx);
  } catch (e) {
    if (!(e instanceof T.DisposedError)) throw e;
    throw new AutogradError(
      'backward',
      `a value '${op.name}' saved for the backward pass was disposed before backward() (${e.message}); ` +
        'run the forward pass and backward() inside the same tidy()',
    );
  }
}

/** Post-order depth-first search (parents before children), without recursion so deep graphs do not overflow the stack. */
function topologicalOrder(root: Var): Var[] {
  const order: Var[] = [];
  const visited = new Set<Var>([root]);
  const stack: [Var, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const parents = Var.parentsOf(top[0]);
    if (top[1] < parents.length) {
      const p = parents[top[1]++];
      if (p && p.requiresGrad && !visited.has(p)) {
        visited.add(p);
        stack.push([p, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order;
}

/**
 * The ONE place broadcasting is undone. If the op broadcasts its inputs, a gradient of the broadcast shape is summed
 * over the axes the input was stretched along (new leading axes, and axes of size 1), back to the input's shape.
 * Any other shape mismatch is a bug in the op's VJP and is reported with the op's name.
 */
function fitToShape(op: OpDef<unknown>, g: Tensor | number, parent: Var, input: Tensor | number): Tensor {
  const shape = parent.shape;
  let grad = typeof g === 'number' ? T.full([...shape], g, { dtype: parent.dtype }) : g;
  if (grad.shape.join() === shape.join()) return grad;
  if (op.broadcasts) {
    const lead = grad.rank - shape.length;
    const axes = grad.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1));
    if (lead >= 0) grad = T.reshape(T.sum(grad, axes, true), [...grad.shape.map((d, i) => (axes.includes(i) ? 1 : d))].slice(lead));
    if (grad.shape.join() === shape.join()) return grad;
  }
  const inShape = input instanceof Tensor ? input.shape : shape;
  throw new AutogradError(op.name, `gradient has shape [${grad.shape}] but the input has shape [${inShape}]`);
}

/** A Var, Tensor or number, as accepted by every op. */
export type VarLike = Var | Tensor | number;

/** Runs op on the inputs' values and, when recording and any input requires gradients, records the node. */
export function apply<A>(op: OpDef<A>, inputs: VarLike[], attrs: A): Var {
  const values = inputs.map((x) => (x instanceof Var ? x.value : x));
  const output = op.forward(values, attrs);
  const needsGrad = recording && inputs.some((x) => x instanceof Var && x.requiresGrad);
  if (!needsGrad) return new Var(output);
  const parents = inputs.map((x) => (x instanceof Var ? x : null));
  return Var.fromOp(output, { op: op as OpDef<unknown>, parents, ctx: { inputs: values, output, attrs } });
}
