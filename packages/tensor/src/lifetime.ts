// Tensor lifetimes: tidy(fn) disposes every tensor created inside fn except those it returns (as TensorFlow.js does).
import { ValueError } from './errors.js';

/** Anything with a dispose(): a Tensor (kept structural to avoid an import cycle). */
interface Disposable {
  dispose(): void;
}

const scopes: Set<Disposable>[] = [];

/** @internal Called by the Tensor constructor: the innermost open scope owns the new tensor. */
export function track(t: Disposable): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** @internal Called by Tensor.dispose(). */
export function untrack(t: Disposable): void {
  for (const s of scopes) s.delete(t);
}

/**
 * Marks a tensor to survive every enclosing `tidy` scope; returns it. (It leaves every open scope; a tensor is tracked
 * only when made, so no scope takes it back. NB: no WeakSet of kept tensors: each entry there is an ephemeron, which
 * V8's garbage collector must revisit, and a training step keeps dozens of tensors.)
 */
export function keep<T extends Disposable>(t: T): T {
  untrack(t);
  return t;
}

/** Collects the disposables in a result: a tensor, or arrays / objects / Maps holding tensors (also behind a `value` getter). */
function collect(x: unknown, out: Set<Disposable>, seen = new Set<unknown>()): void {
  if (x === null || typeof x !== 'object' || seen.has(x)) return;
  seen.add(x);
  if ('shape' in x && typeof (x as { dispose?: unknown }).dispose === 'function') {
    out.add(x as unknown as Disposable);
    return;
  }
  const values = x instanceof Map ? [...x.values()] : Array.isArray(x) ? x : Object.values(x);
  for (const v of values) collect(v, out, seen);
  // A wrapper exposing its tensor through a `value` getter (an autograd Var) keeps that tensor too.
  if ('value' in x && !Object.hasOwn(x, 'value')) collect((x as { value: unknown }).value, out, seen);
}

/**
 * Runs `fn` in a scope: every tensor created inside and not returned is disposed when it ends.
 * Returned tensors (also inside arrays or objects) move to the enclosing scope. `fn` must not be async:
 * tensors created after an `await` would escape the scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new ValueError('tidy', 'fn returned a Promise; tidy only works with synchronous functions');
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of survivors) if (scope.has(t)) parent.add(t);
  return result;
}

/** Disposes every tensor found in `x` (a tensor, or arrays / objects of them). */
export function dispose(x: unknown): void {
  const found = new Set<Disposable>();
  collect(x, found);
  for (const t of found) t.dispose();
}
