// The whole reverse-mode engine, its ~120-line core first (apply records an op, topologicalOrder, backpropagate, fitToShape
// undoes broadcasting), then the API around it: Var (a value and how it was made), backward(), noGrad.
// One file on purpose (~340 lines): the engine is meant to be read in one sitting, top to bottom.
import * as T from '@rill/tensor';
import { Tensor } from '@rill/tensor';

/** An input value as an op sees it: a Var's value, or a constant Tensor or number as passed. */
export type In = Tensor | number;

/**
 * What an op's VJP sees: the input values of the forward call (typed by the op: `I`, tensors unless it accepts plain
 * numbers), its output, its attributes, and which inputs need a gradient (a VJP may return null for the others).
 */
export interface Context<A, S = undefined, I extends readonly In[] = Tensor[]> {
  /** The forward call's input values, in order: a Var's value, or the constant Tensor or number as passed. */
  inputs: I;
  /** The forward call's output tensor. */
  output: Tensor;
  /** The attributes the op was applied with. */
  attrs: A;
  /** `needsGrad[i]` is true when input i is a Var that requires gradients; the VJP may return null for the others. */
  needsGrad: boolean[];
  /** What the forward kept for the VJP beside its output (e.g. the linear layer's pre-activation z); see OpDef.forward. */
  saved: S;
}

/** What a forward returns when its VJP needs more than the inputs and the output. */
export interface ForwardResult<S> {
  /** The op's output tensor. */
  output: Tensor;
  /** Kept for the VJP (ctx.saved); a Tensor here is freed at once when no graph is recorded. */
  saved: S;
}

/**
 * A differentiable op, defined once: `forward` computes the output from input values; `vjp` maps the output's
 * gradient dy to one gradient per input, the vector-Jacobian product dyᵀ·∂y/∂xᵢ (null where none flows).
 * An op that broadcasts its inputs returns their gradients in the broadcast shape and says which shape that is
 * (`broadcasts: true` means the output's shape); the engine then sums each back to its input's shape.
 * `I` types the input values: Tensor[] by default; e.g. [In, In] for an op that also takes plain numbers.
 */
export interface OpDef<A = undefined, S = undefined, I extends readonly In[] = Tensor[]> {
  /** The op's name, used by `Var.op` and in error messages. */
  name: string;
  /**
   * Computes the output tensor from the input values (Var values, constant tensors or numbers) and the attributes;
   * an op that needs more than its inputs and output in its VJP returns `{ output, saved }` (ctx.saved in the VJP).
   */
  forward(inputs: I, attrs: A): Tensor | ForwardResult<S>;
  /**
   * Maps the output gradient `dy` (the output's shape) to one gradient per input, dyᵀ·∂y/∂xᵢ, each in that input's
   * shape or in the broadcast shape declared by `broadcasts`; null where no gradient flows (or is not needed).
   */
  vjp(dy: Tensor, ctx: Context<A, S, I>): (Tensor | null)[];
  /**
   * Set when the op broadcasts its inputs: `true` means input gradients may come in the output's shape; a function
   * returns the shape input `input` was broadcast to. The engine sums such gradients back to the input's shape.
   * Absent: every gradient must already have its input's shape (otherwise backward() throws AutogradError).
   */
  broadcasts?: true | ((input: number, ctx: Context<A, S, I>) => readonly number[]);
}

/** What an op is called with, for input values I: a Var or Tensor where it needs a tensor, also a number where it takes one. */
export type ArgsOf<I extends readonly In[]> = { [K in keyof I]: I[K] extends Tensor ? TensorArg : VarLike };

/** How a non-leaf Var was made: kept in the Var (a private field), dropped when backward() has used it (unless retainGraph). */
interface Node {
  op: OpDef<unknown, unknown, readonly In[]>;
  parents: (Var | null)[]; // null where the input was a constant (Tensor or number)
  ctx: Context<unknown, unknown, readonly In[]> | null; // null once freed
}
/**
 * The node of a Var (undefined for a leaf), and how apply() records one: through Var's private field, set up by the
 * class's static block below. Not a WeakMap from Var to node: every WeakMap entry is an ephemeron, which V8's garbage
 * collector must revisit, and a training step records dozens of nodes (a 2D step's fixed cost fell from ~120 to ~75 µs).
 */
let nodeOf: (v: Var) => Node | undefined;
let setNode: (v: Var, node: Node) => void;
/** Non-leaf Vars whose gradient backward() keeps (Var.retainGrad; rare, so a WeakSet is fine). */
const retained = new WeakSet<Var>();

// ---------------------------------------------------------------- the core: record, order, walk back

/** A Var, Tensor or number, as accepted by the elementwise ops. */
export type VarLike = Var | Tensor | number;
/** A Var or Tensor, as accepted by the ops that need a shape. */
export type TensorArg = Var | Tensor;

/** Runs op on the inputs' values and, when recording and any input requires gradients, records the node. */
export function apply<A, S, I extends readonly In[]>(op: OpDef<A, S, I>, args: ArgsOf<I>, attrs: A): Var {
  const inputs = args as readonly VarLike[];
  // ArgsOf<I> holds a Var where I holds its value, and a constant where I holds the constant: the values are an I.
  const values = inputs.map((x) => (x instanceof Var ? x.value : x)) as unknown as I;
  const result = op.forward(values, attrs);
  const [output, saved] = result instanceof Tensor ? [result, undefined] : [result.output, result.saved];
  const needsGrad = inputs.map((x) => x instanceof Var && x.requiresGrad);
  if (!recording || !needsGrad.some(Boolean)) {
    if (saved instanceof Tensor && saved !== output) saved.dispose(); // no backward will need it
    return new Var(output);
  }
  const v = new Var(output, { requiresGrad: true });
  const parents = inputs.map((x) => (x instanceof Var ? x : null));
  const ctx: Context<A, S, I> = { inputs: values, output, attrs, needsGrad, saved: saved as S };
  setNode(v, { op, parents, ctx } as unknown as Node); // stored untyped: each node keeps its own op's types
  return v;
}

/**
 * The backward walk. Returns ∂(seedᵀ·root)/∂leaf for the leaves reached (only `only`'s, when given), as tensors that
 * belong to the caller's tidy scope; every other tensor made on the way is disposed. Leaves' .grad is not touched.
 */
export function backpropagate(root: Var, seed: Tensor | undefined, retainGraph: boolean, only: Var[] | null): Map<Var, Tensor> {
  if (!root.requiresGrad) throw new AutogradError('backward', 'this Var does not require gradients (no input had requiresGrad)');
  if (seed === undefined && root.value.size !== 1) {
    throw new AutogradError('backward', `needs a seed gradient for a non-scalar output of shape [${root.shape}]`);
  }
  if (seed !== undefined && (seed.shape.join() !== root.shape.join() || seed.dtype !== root.dtype)) {
    throw new AutogradError('backward', `seed is ${seed.dtype}[${seed.shape}] but the output is ${root.dtype}[${root.shape}]`);
  }
  const order = topologicalOrder(root).reverse();
  for (const v of order) {
    if (nodeOf(v)?.ctx === null) {
      throw new AutogradError('backward', `the graph through '${v.op}' was freed by an earlier backward(); pass { retainGraph: true } to the first call`);
    }
  }
  const wanted = only ? new Set(only) : null;
  const leafGrads = T.tidy(() => {
    const grads = new Map<Var, Tensor>([[root, seed ?? T.ones([...root.shape], { dtype: root.dtype })]]);
    const result = new Map<Var, Tensor>();
    const handedOut = new Set<Tensor>();
    // Reverse topological order: a Var is processed only after every Var that uses it has sent its gradient.
    for (const v of order) {
      const dy = grads.get(v);
      const node = nodeOf(v);
      if (dy === undefined) continue;
      if (node !== undefined && retained.has(v) && !wanted) {
        // A retained inner node gets its gradient too (a copy where the tensor is shared), and the walk goes on.
        const g = dy === seed || handedOut.has(dy) ? T.clone(dy) : dy;
        result.set(v, g);
        handedOut.add(g);
      }
      if (node === undefined) {
        // Each leaf gets a tensor of its own (not the caller's seed, not one shared with another leaf).
        if (!wanted || wanted.has(v)) {
          const g = dy === seed || handedOut.has(dy) ? T.clone(dy) : dy;
          result.set(v, g);
          handedOut.add(g);
        }
        continue;
      }
      const inputGrads = vjpOf(node, dy);
      node.parents.forEach((p, i) => {
        const g = inputGrads[i];
        if (p === null || !p.requiresGrad || g === null || g === undefined) return;
        const fitted = fitToShape(node, g, i, p);
        const prev = grads.get(p);
        grads.set(p, prev ? T.add(prev, fitted) : fitted); // a Var used twice receives the sum (+=)
      });
    }
    return result; // the leaves' gradients leave the scope; everything else made here is disposed
  });
  if (!retainGraph) {
    for (const v of order) {
      const node = nodeOf(v);
      if (node) [node.ctx, node.parents] = [null, []]; // drop the saved values and the links
    }
  }
  return leafGrads;
}

/** Runs an op's VJP, explaining the usual cause when a value it saved was disposed before backward(). */
function vjpOf(node: Node, dy: Tensor): (Tensor | null)[] {
  try {
    return node.op.vjp(dy, node.ctx!);
  } catch (e) {
    if (!(e instanceof T.DisposedError)) throw e;
    throw new AutogradError(
      'backward',
      `a value '${node.op.name}' saved for the backward pass was disposed before backward() (${e.message}); ` +
        'run the forward pass and backward() inside the same tidy()',
    );
  }
}

/** Post-order depth-first search (parents before children), without recursion so deep graphs do not overflow the stack. */
function topologicalOrder(root: Var): Var[] {
  const order: Var[] = [];
  const visited = new Set<Var>([root]);
  const stack: [Var, number][] = [[root, 0]]; // each entry: a Var and the index of the next parent to visit
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const parents = nodeOf(top[0])?.parents ?? [];
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
 * The ONE place broadcasting is undone. If the op broadcast input i, its gradient comes in the broadcast shape and is
 * summed over the axes the input was stretched along (new leading axes, and axes of size 1) back to the input's
 * shape. Any other shape is a bug in the op's VJP and is reported with the op's name.
 */
function fitToShape(node: Node, grad: Tensor, i: number, parent: Var): Tensor {
  const shape = parent.shape;
  if (T.sameShape(grad.shape, shape)) return grad;
  const { op, ctx } = node;
  const stretched = op.broadcasts === true ? ctx!.output.shape : op.broadcasts?.(i, ctx!);
  if (stretched && grad.shape.join() === stretched.join()) {
    const lead = grad.rank - shape.length;
    const axes = grad.shape.map((_, k) => k).filter((k) => k < lead || (shape[k - lead] === 1 && grad.shape[k] !== 1));
    return T.reshape(T.sum(grad, axes), [...shape]);
  }
  throw new AutogradError(op.name, `gradient has shape [${grad.shape}] but the input has shape [${shape}]`);
}

// ---------------------------------------------------------------- the API: Var, backward(), noGrad

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

/** Options of {@link Var.backward}. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (it is freed by default). */
  retainGraph?: boolean;
}

/**
 * A node of the computation graph: a Tensor `value`, and — when it was computed from Vars that require gradients —
 * the op and parents that made it. Leaves (no parents) with `requiresGrad` receive `.grad` from backward().
 */
export class Var {
  #value: Tensor;
  #node: Node | undefined = undefined;
  static {
    nodeOf = (v) => v.#node;
    setNode = (v, node) => {
      v.#node = node;
    };
  }
  /** ∂(what backward started from)/∂this, summed over backward() calls: leaves, and inner Vars after retainGrad(). */
  grad: Tensor | null = null;
  /**
   * Whether gradients flow to this Var: set by the constructor for leaves (default false; an int32 Var cannot
   * require gradients), true for a recorded op's output.
   */
  readonly requiresGrad: boolean;

  constructor(value: Tensor, options: { requiresGrad?: boolean } = {}) {
    if (!(value instanceof Tensor)) throw new AutogradError('Var', `value must be a Tensor, got ${typeof value}`);
    this.#value = value;
    this.requiresGrad = options.requiresGrad ?? false;
    if (this.requiresGrad && value.dtype === 'int32') throw new AutogradError('Var', 'an int32 Var cannot require gradients (cast it to a float dtype)');
  }

  /** The tensor this Var holds. */
  get value(): Tensor {
    return this.#value;
  }

  /**
   * Replaces a leaf's value (how optimizers update parameters): same shape and dtype required; the previous value
   * is disposed unless `disposePrevious` is false. Recorded graphs keep the values they saw.
   */
  assign(value: Tensor, options: { disposePrevious?: boolean } = {}): void {
    if (!this.isLeaf) throw new AutogradError('assign', `only a leaf can be assigned; this Var was made by '${this.op}'`);
    if (!T.sameShape(value.shape, this.#value.shape) || value.dtype !== this.#value.dtype) {
      throw new AutogradError('assign', `new value is ${value.dtype}[${value.shape}] but the Var holds ${this.dtype}[${this.shape}]`);
    }
    const previous = this.#value;
    this.#value = value;
    if (options.disposePrevious ?? true) previous.dispose();
  }

  /** Shape of the held tensor. */
  get shape(): readonly number[] {
    return this.#value.shape;
  }

  /** Dtype of the held tensor. */
  get dtype(): T.DType {
    return this.#value.dtype;
  }

  /** True for Vars made by the user (no op recorded). */
  get isLeaf(): boolean {
    return this.#node === undefined;
  }

  /** Name of the op that made this Var, or null for a leaf. */
  get op(): string | null {
    return this.#node?.op.name ?? null;
  }

  /**
   * Asks backward() to keep this inner Var's gradient in `.grad` too (as PyTorch's retain_grad), to look at the
   * gradient flowing through a node; a no-op for leaves, which always get theirs. Returns this Var.
   */
  retainGrad(): this {
    if (!this.isLeaf && this.requiresGrad) retained.add(this);
    return this;
  }

  /** A Var with the same value and no history: gradients stop here. */
  detach(): Var {
    return new Var(this.#value);
  }

  /** Disposes and clears the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /**
   * Disposes the value and the gradient (a Var made by an op: its value only; the graph behind it keeps what it
   * recorded until backward frees it). `using v = new Var(…)` calls it at the end of the block.
   */
  dispose(): void {
    this.#value.dispose();
    this.zeroGrad();
  }

  /** dispose() at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Backpropagates from this Var: for every leaf with requiresGrad, leaf.grad += ∂(seedᵀ·this)/∂leaf (a new tensor;
   * the previous one is disposed). `seed` defaults to 1 and may be omitted only for a one-element Var.
   * Also callable as backward({ retainGraph: true }).
   */
  backward(seed?: Tensor | BackwardOptions, options: BackwardOptions = {}): void {
    if (seed !== undefined && !(seed instanceof Tensor)) [seed, options] = [undefined, seed];
    const leaves = backpropagate(this, seed, options.retainGraph ?? false, null);
    // Only now, after the whole walk succeeded, touch the leaves: a failed backward changes nothing.
    for (const [leaf, g] of leaves) {
      if (leaf.grad === null) {
        leaf.grad = T.keep(g);
        continue;
      }
      const total = T.keep(T.add(leaf.grad, g));
      leaf.grad.dispose();
      g.dispose();
      leaf.grad = total;
    }
  }

  /** `Var(<tensor>, op=<name>, requiresGrad)`, the op and flag shown only when present. */
  toString(): string {
    return `Var(${this.#value.toString()}${this.op ? `, op=${this.op}` : ''}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
