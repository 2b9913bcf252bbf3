// The IDX format of the original MNIST files (LeCun et al.): a magic number naming the element type and the number of
// dimensions, the dimensions, then the elements row-major. Parsed with every size checked, so a truncated or foreign
// file is a one-line error, never a wrong dataset.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';

/** An IDX file read: its dimensions and its unsigned bytes (MNIST's element type). */
export interface IdxArray {
  /** The dimensions, e.g. [60000, 28, 28] for MNIST's training images, [60000] for its labels. */
  dims: number[];
  /** The elements, row-major. */
  data: Uint8Array;
}

/** An error in an IDX file, naming it: `train-images-idx3-ubyte: truncated: …`. */
export class IdxError extends T.RillError {
  constructor(source: string, message: string) {
    super('idx', `${source}: ${message}`);
  }
}

/**
 * Parses IDX bytes of unsigned bytes (type 0x08), with `rank` dimensions when given: magic 0x0000 08 0r, then r big-endian
 * u32 dimensions, then their product of bytes exactly. Throws IdxError naming `source` otherwise.
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX file', rank?: number): IdxArray {
  if (bytes.length < 4) throw new IdxError(source, `truncated: ${bytes.length} bytes, not even the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [z0, z1, type, r] = [bytes[0], bytes[1], bytes[2], bytes[3]];
  if (z0 !== 0 || z1 !== 0) throw new IdxError(source, `not an IDX file: it starts with 0x${[z0, z1, type, r].map((b) => b.toString(16).padStart(2, '0')).join('')} (expected 0x0000 then type and rank)`);
  if (type !== 0x08) throw new IdxError(source, `element type 0x${type.toString(16)}; MNIST's files hold unsigned bytes (0x08)`);
  if (rank !== undefined && r !== rank) throw new IdxError(source, `${r} dimensions where ${rank} were expected (images have 3, labels 1)`);
  if (bytes.length < 4 + 4 * r) throw new IdxError(source, `truncated: ${bytes.length} bytes, shorter than its ${r} dimensions`);
  const dims = Array.from({ length: r }, (_, k) => view.getUint32(4 + 4 * k));
  const size = dims.reduce((a, b) => a * b, 1);
  const body = bytes.length - 4 - 4 * r;
  if (body !== size) throw new IdxError(source, `${body < size ? 'truncated' : 'too long'}: dimensions [${dims.join(', ')}] need ${size} bytes of data, the file holds ${body}`);
  return { dims, data: bytes.subarray(4 + 4 * r) };
}

/** One split of MNIST: images (N, 1, 28, 28) scaled to [−1, 1], labels int32 (N). */
export interface MnistSplit {
  /** Pixels p ∈ {0…255} as 2p/255 − 1, float32 (N, 1, H, W). */
  images: Tensor;
  /** The digit of each image, int32 (N). */
  labels: Tensor;
}

/** An image file and a label file as one split, checked to agree (the same count; labels 0…9). */
export function mnistSplit(images: IdxArray, labels: IdxArray, source = 'MNIST'): MnistSplit {
  const [n, h, w] = images.dims;
  if (images.dims.length !== 3 || labels.dims.length !== 1) throw new IdxError(source, `images must be (N, H, W) and labels (N), got [${images.dims}] and [${labels.dims}]`);
  if (labels.dims[0] !== n) throw new IdxError(source, `${n} images but ${labels.dims[0]} labels`);
  const bad = labels.data.findIndex((v) => v > 9);
  if (bad >= 0) throw new IdxError(source, `label ${bad} is ${labels.data[bad]}; digits are 0…9`);
  const px = new Float32Array(images.data.length);
  for (let i = 0; i < px.length; i++) px[i] = (2 * images.data[i]) / 255 - 1;
  return { images: T.tensor(px, { shape: [n, 1, h, w] }), labels: T.tensor(Int32Array.from(labels.data), { shape: [n], dtype: 'int32' }) };
}
