// The binary op table: each elementwise op's f(a, b) as a function the CPU kernels call (broadcasting is the kernels'
// job). The formulas are written once, in formulas.ts; the functions are printed from them at build time.
import { BINARY_JS } from './elementwise.generated.js';
import { BINARY_OPS, type BinaryOp } from './formulas.js';

export { BINARY_OPS, type BinaryOp };

/** Binary elementwise ops by name: add, sub, mul, div, pow, maximum, minimum and the comparisons (1 or 0). */
export const BINARY: Readonly<Record<BinaryOp, (a: number, b: number) => number>> = BINARY_JS;
