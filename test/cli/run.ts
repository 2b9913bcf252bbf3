// Helpers for the CLI tests: run the built `rill` as a subprocess, and decode PNG files fully.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const RILL = fileURLToPath(new URL('../../packages/cli/bin/rill.js', import.meta.url));

/** Runs `rill …args` in `cwd` with stdin closed (so stderr is not a TTY); returns status, stdout, stderr. */
export function rill(cwd: string, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [RILL, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}

/**
 * Decodes a PNG completely — signature, IHDR, every IDAT inflated, each scanline's filter byte — and returns its size.
 * Throws if any part is malformed, so a test that calls it proves the file is a real image.
 */
export function decodePng(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!signature.every((v, i) => b[i] === v)) throw new Error(`${path}: not a PNG`);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const length = b.readUInt32BE(offset);
    const type = b.toString('latin1', offset + 4, offset + 8);
    const data = b.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8) throw new Error(`${path}: bit depth ${data[8]}`);
      channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[data[9]] ?? 0;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== height * (1 + width * channels)) throw new Error(`${path}: pixel data has ${raw.length} bytes, expected ${height * (1 + width * channels)}`);
  for (let y = 0; y < height; y++) if (raw[y * (1 + width * channels)] > 4) throw new Error(`${path}: bad filter byte on row ${y}`);
  return { width, height };
}
