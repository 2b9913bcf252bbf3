// Node-only helpers for @rill/flowmatch: `.rill`, CSV and NumPy `.npy` files, written atomically (temp name, then rename).
/**
 * Node-only helpers for @rill/flowmatch: `.rill`, CSV and NumPy `.npy` files, written atomically (temp name, then rename).
 *
 * @module @rill/flowmatch/node
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { parseCsv, toCsv, type CsvOptions, type ParsedCsv } from './csv.js';
import { encodeNpy, parseNpy } from './npy.js';
import type { Tensor } from '@rill/tensor';
import { ValueError } from '@rill/tensor';

/** What an errno code means, for one-line errors. */
const ERRNO: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  ENAMETOOLONG: 'the name is too long',
};

/** A ValueError naming the file and the errno (`out.rill: cannot write the file (ENOSPC: no space left on the device)`). */
export function fileError(path: string, verb: string, e: unknown): ValueError {
  const code = (e as NodeJS.ErrnoException).code;
  const what = code ? `${code}${ERRNO[code] ? `: ${ERRNO[code]}` : ''}` : (e as Error).message;
  return new ValueError(path, `cannot ${verb} the file (${what})`);
}

/** The path that holds a file's data: `path` itself, or the file its chain of symbolic links ends at (existing or not). */
export function linkTarget(path: string): string {
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = lstatSync(p, { throwIfNoEntry: false });
    } catch (e) {
      throw fileError(path, 'write', e); // ENAMETOOLONG, ENOTDIR, EACCES on the way
    }
    if (!st?.isSymbolicLink()) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new ValueError(path, 'cannot write the file (ELOOP: too many symbolic links)');
}

/** Temporary files being written now: removed if the process exits before they are renamed. */
const temporaries = new Set<string>();
process.on('exit', () => temporaries.forEach((t) => rmSync(t, { force: true })));

/** Termination signals held while a file is written, then re-raised: a signal never cuts a write in half. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Writes `bytes` to `path` so that nothing is lost: a regular file is written to a short temporary name beside it and
 * renamed over it (a crash or an error never leaves a half-written file nor clobbers the good one), keeping an
 * existing file's mode; a symbolic link is written through to its target; a device, FIFO or socket (`/dev/null`,
 * `/dev/stdout`) is written directly. A folder or a write-protected file is refused. Errors are ValueErrors naming
 * the file and the errno. A termination signal that arrives meanwhile takes effect once the file is complete.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const target = linkTarget(path);
  const st = statSync(target, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw fileError(path, 'write', Object.assign(new Error(), { code: 'EISDIR' }));
  if (st && !st.isFile()) {
    try {
      writeFileSync(target, bytes);
    } catch (e) {
      throw fileError(path, 'write', e);
    }
    return;
  }
  if (st && (st.mode & 0o222) === 0) {
    throw new ValueError(path, `cannot write the file: it is write-protected (mode ${(st.mode & 0o777).toString(8)}); make it writable or write elsewhere`);
  }
  const tmp = join(dirname(target), `.rill-${randomBytes(4).toString('hex')}.tmp`);
  const held: NodeJS.Signals[] = [];
  const hold = (signal: NodeJS.Signals) => held.push(signal);
  SIGNALS.forEach((s) => process.on(s, hold));
  temporaries.add(tmp);
  try {
    writeFileSync(tmp, bytes, { mode: st ? st.mode & 0o7777 : 0o666 });
    if (st) chmodSync(tmp, st.mode & 0o7777); // exactly the old mode, whatever the umask
    renameSync(tmp, target);
  } catch (e) {
    throw fileError(path, 'write', e);
  } finally {
    try {
      rmSync(tmp, { force: true }); // gone already when the rename succeeded; a failed cleanup must not hide the error
    } catch {
      // the exit hook tries again
    }
    temporaries.delete(tmp);
    // Signals that came during the write are delivered on the next turn of the event loop: re-raise them then.
    setImmediate(() => {
      SIGNALS.forEach((s) => process.off(s, hold));
      if (held.length > 0 && process.listenerCount(held[0]) === 0) process.kill(process.pid, held[0]);
    });
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
    throw fileError(path, 'read', e);
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
