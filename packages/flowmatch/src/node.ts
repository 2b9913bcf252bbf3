// Node-only helpers for @rill/flowmatch: `.rill` and CSV files, written atomically (temp name, then rename).
/**
 * Node-only helpers for @rill/flowmatch: `.rill` and CSV files, written atomically (temp name, then rename).
 *
 * @module @rill/flowmatch/node
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { parseCsv, toCsv, type ParsedCsv } from './csv.js';
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

/** Reads a `.rill` file; errors name the file (missing, truncated, corrupted, wrong version). */
export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ValueError(path, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Reads points from a CSV file (see parseCsv); errors name the file and line. */
export function readCsv(path: string): ParsedCsv {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ValueError(path, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseCsv(text, path);
}

/** Writes points as CSV with a header x0,x1,… (atomically). */
export function writeCsv(path: string, points: Tensor): void {
  writeFileAtomic(path, toCsv(points));
}
