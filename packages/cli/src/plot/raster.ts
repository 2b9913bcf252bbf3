// Images as PNG without a renderer: an 8-bit greyscale PNG encoder (zlib's deflate from node:zlib, CRC-32 per chunk),
// and grids of 28 × 28 digits with row and column labels (an SVG holding the pixels as an embedded PNG, rendered by resvg).
import { deflateSync } from 'node:zlib';
import { crc32 } from '@rill/flowmatch';
import { svgToPng } from './png.js';

/** PNG bytes of a greyscale image: `pixels` (height × width, row-major) are intensities 0…255. */
export function greyPng(width: number, height: number, pixels: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (width + 1)); // each row: filter type 0 (none), then its bytes
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8); // 8 bits, greyscale, deflate, no filter method choice, no interlace
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const png = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (png.set(p, at), (at += p.length));
  return png;
}

/** An intensity in [−1, 1] (the models' pixel scale) as a byte: black 0 at −1, white 255 at 1, clipped. */
export const toByte = (v: number) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);

/**
 * A grid of side × side images as PNG bytes: cells[r][c] holds one image's side² pixels in [−1, 1] (white digits on
 * black, as MNIST), scaled `zoom` times; rowLabels at the left, colLabels on top, a title above.
 */
export function imageGrid(cells: ArrayLike<number>[][], side: number, options: { rowLabels?: string[]; colLabels?: string[]; title?: string; zoom?: number } = {}): Uint8Array {
  const { rowLabels = [], colLabels = [], title = '', zoom = 2 } = options;
  const [rows, cols] = [cells.length, Math.max(...cells.map((r) => r.length))];
  const gap = 2;
  const [w, h] = [cols * (side + gap) - gap, rows * (side + gap) - gap];
  const pixels = new Uint8Array(w * h).fill(64); // grey between the cells
  cells.forEach((row, r) =>
    row.forEach((img, c) => {
      for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) pixels[(r * (side + gap) + y) * w + c * (side + gap) + x] = toByte(img[y * side + x]);
    }),
  );
  const png = Buffer.from(greyPng(w, h, pixels)).toString('base64');
  const [left, top] = [rowLabels.length ? 70 : 10, (title ? 30 : 8) + (colLabels.length ? 20 : 0)];
  const cell = (side + gap) * zoom;
  const text = (x: number, y: number, s: string, anchor = 'middle', size = 13) =>
    `<text x="${x}" y="${y}" font-size="${size}" text-anchor="${anchor}" fill="#222">${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + w * zoom + 10}" height="${top + h * zoom + 10}">`,
    title ? text((left + w * zoom + 10) / 2, 20, title, 'middle', 15) : '',
    ...colLabels.map((s, c) => text(left + c * cell + (side * zoom) / 2, top - 6, s)),
    ...rowLabels.map((s, r) => text(left - 8, top + r * cell + (side * zoom) / 2 + 5, s, 'end')),
    `<image x="${left}" y="${top}" width="${w * zoom}" height="${h * zoom}" style="image-rendering:optimizeSpeed" href="data:image/png;base64,${png}"/>`,
    '</svg>',
  ].join('');
  return svgToPng(svg);
}
