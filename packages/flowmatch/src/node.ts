// Node-only helpers for @rill/flowmatch: `.rill`, CSV and NumPy `.npy` files, written atomically (temp name, then rename).
/**
 * Node-only helpers for @rill/flowmatch: `.rill`, CSV and NumPy `.npy` files, written atomically (temp name, then rename).
 *
 * @module @rill/flowmatch/node
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { parseCsv, toCsv, type CsvOptions, type ParsedCsv } from './csv.js';
import { encodeNpy, parseNpy } from './npy.js';
import type { Tensor } from '@rill/tensor';
import { ValueError } from '@rill/tensor';

/**
 * Writes `bytes` to `path` atomically: first to a temporary file beside it, then renamed over it, so a crash or an
 * error never leaves a half-written file and never clobbers the previous good one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Saves a checkpoint as a `.rill` file (atomically). */
export function saveCheckpoint(path: string, ckpt: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(ckpt));
}

/** The bytes of a file; a file that cannot be read is a ValueError naming it and the reason (ENOENT, EISDIR…). */
export function readBytes(path: string): Uint8Array {
  try {
    const bytes = readFileSync(path);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (e) {
    throw new ValueError(path, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Reads a `.rill` file; errors name the file (missing, truncated, corrupted, wrong version). */
export function loadCheckpoint(path: string): Checkpoint {
  return decodeCheckpoint(readBytes(path), path);
}

/** Reads points from a CSV file (see parseCsv; `indexCol` drops a first index column); errors name the file and line. */
export function readCsv(path: string, options: CsvOptions = {}): ParsedCsv {
  return parseCsv(new TextDecoder().decode(readBytes(path)), path, options);
}

/** Reads a NumPy `.npy` array (float32, float64 or int32, C order; see parseNpy); errors name the file. */
export function readNpy(path: string): Tensor {
  return parseNpy(readBytes(path), path);
}

/** Writes a tensor as a NumPy `.npy` file (version 1.0, its own dtype; atomically): `np.load(path)` reads it. */
export function writeNpy(path: string, t: Tensor): void {
  writeFileAtomic(path, encodeNpy(t));
}

/** Writes points as CSV with a header x0,x1,… (atomically). */
export function writeCsv(path: string, points: Tensor): void {
  writeFileAtomic(path, toCsv(points));
}
