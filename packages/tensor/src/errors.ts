// The error types every @rill/tensor op throws; each message starts with the op's name.

/** Base class of every error Rill throws on bad input. `op` names the operation that refused it. */
export class RillError extends Error {
  /** The name of the operation that refused the input (the message starts with it). */
  readonly op: string;
  constructor(op: string, detail: string) {
    super(`${op}: ${detail}`);
    this.name = new.target.name;
    this.op = op;
  }
}

/** Shapes that do not fit: mismatched or non-broadcastable shapes, bad dimensions, data of the wrong length, ragged arrays. */
export class ShapeError extends RillError {}

/** A dtype the op does not accept, or two tensors of different dtypes in one op. */
export class DTypeError extends RillError {}

/** An axis outside [-rank, rank), or the same axis named twice. */
export class AxisError extends RillError {}

/** A scalar argument that is out of range or of the wrong kind (NaN or non-integer seed, negative count, index out of range…). */
export class ValueError extends RillError {}

/** A tensor used after `dispose()` (directly, or by the `tidy` scope that created it). */
export class DisposedError extends RillError {}

/** An unknown backend name, or a backend that cannot run here. */
export class BackendError extends RillError {}

/** Formats a shape the way every message shows it: `[2,3]`. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
