// The `.rill` format: round trip, CRC-32, clear errors for truncated / corrupted / wrong-version files, atomic writes.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as F from '@rill/flowmatch';
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from '@rill/flowmatch/node';
import * as T from '@rill/tensor';

const sample = (): F.Checkpoint => ({
  kind: 'cfm',
  config: { hidden: [4, 4], note: 'ü → ✓' },
  step: 42,
  rng: new T.Generator(3).getState(),
  tensors: {
    'model.w': T.tensor([[1.5, -2], [3.25, 1e-30]]),
    'model.b': T.tensor([0.1, 0.2, 0.3], { dtype: 'float64' }),
    'index.i': T.tensor([7, -9], { dtype: 'int32' }),
    'empty.e': T.zeros([0, 3]),
  },
  meta: { wall: 1.5 },
});

describe('encode / decode', () => {
  it('CRC-32 of "123456789" is 0xCBF43926 (the standard check value)', () => {
    expect(F.crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips every field and tensor bit for bit, starting with the RILL magic and version 2', () => {
    const bytes = F.encodeCheckpoint(sample());
    expect(Array.from(bytes.slice(0, 4))).toEqual([0x52, 0x49, 0x4c, 0x4c]);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(2);
    const back = F.decodeCheckpoint(bytes);
    const orig = sample();
    expect(back.kind).toBe('cfm');
    expect(back.config).toEqual(orig.config);
    expect(back.step).toBe(42);
    expect(back.rng).toEqual(orig.rng);
    expect(back.meta).toEqual({ wall: 1.5 });
    for (const [name, t] of Object.entries(orig.tensors)) {
      expect(back.tensors[name].dtype).toBe(t.dtype);
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(Array.from(back.tensors[name].data)).toEqual(Array.from(t.data));
    }
  });

  it('decodes from a Node Buffer and from a view that starts inside a larger buffer (was a bug: a Buffer slice is a view, so tensors were read from the wrong bytes)', () => {
    const bytes = F.encodeCheckpoint(sample());
    const inside = new Uint8Array(bytes.length + 24);
    inside.set(bytes, 24);
    for (const view of [Buffer.from(bytes), inside.subarray(24), Buffer.from(inside.buffer, 24, bytes.length)]) {
      const back = F.decodeCheckpoint(view);
      for (const [name, t] of Object.entries(sample().tensors)) expect(Array.from(back.tensors[name].data)).toEqual(Array.from(t.data));
    }
  });

  it('truncated, corrupted, wrong-version and foreign files are CheckpointErrors naming the source', () => {
    const bytes = F.encodeCheckpoint(sample());
    const err = (b: Uint8Array) => () => F.decodeCheckpoint(b, 'm.rill');
    expect(err(bytes.slice(0, bytes.length - 5))).toThrow(/^m\.rill: truncated/);
    expect(err(bytes.slice(0, 20))).toThrow(/^m\.rill: truncated \(the header is incomplete\)/);
    const flipped = bytes.slice();
    flipped[flipped.length - 3] ^= 0x10;
    expect(err(flipped)).toThrow('m.rill: corrupted (payload checksum mismatch)');
    const header = bytes.slice();
    header[12] = 0x5d; // damage the JSON: its opening brace becomes ]
    expect(err(header)).toThrow(F.CheckpointError);
    const v3 = bytes.slice();
    new DataView(v3.buffer).setUint32(4, 3, true);
    expect(err(v3)).toThrow('m.rill: format version 3 is not supported (this Rill reads versions 1 and 2)');
    expect(err(new TextEncoder().encode('x0,x1\n1,2\n'))).toThrow('m.rill: not a .rill file (bad magic bytes)');
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expect(err(longer)).toThrow(/unexpected trailing bytes/);
  });

  it('an entry whose offset is negative or misaligned is a CheckpointError (found before the header checksum is compared)', () => {
    const bytes = F.encodeCheckpoint(sample());
    const headerEnd = 12 + new DataView(bytes.buffer).getUint32(8, true);
    const text = new TextDecoder().decode(bytes.subarray(12, headerEnd));
    // rewrite one offset in place, keeping the header's length: 0 → 2 (misaligned), NN → -N (negative)
    const edit = (from: RegExp, to: (m: string) => string) => {
      const edited = bytes.slice();
      const m = text.match(from)!;
      edited.set(new TextEncoder().encode(to(m[0])), 12 + new TextEncoder().encode(text.slice(0, m.index)).length); // a byte position
      return () => F.decodeCheckpoint(edited, 'm.rill');
    };
    expect(edit(/"offset":0,/, () => '"offset":2,')).toThrow(/^m\.rill: corrupted \(bad entry for tensor '.*': offset 2,/);
    expect(edit(/"offset":\d\d+/, (s) => `"offset":-${s.slice(10)}`)).toThrow(/^m\.rill: corrupted \(bad entry for tensor '.*': offset -\d+,/);
  });
});

describe('files', () => {
  it('saveCheckpoint / loadCheckpoint round-trip; a missing file is a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-ckpt-'));
    const path = join(dir, 'model.rill');
    saveCheckpoint(path, sample());
    expect(loadCheckpoint(path).step).toBe(42);
    expect(readdirSync(dir)).toEqual(['model.rill']); // no temp file left behind
    expect(() => loadCheckpoint(join(dir, 'nope.rill'))).toThrow(/nope\.rill: cannot read the file \(ENOENT: no such file or folder\)/);
  });

  it('a failed atomic write leaves the previous file untouched and no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-atomic-'));
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'good');
    // Writing into a directory path fails at the rename step (the target is a directory).
    const asDir = join(dir, 'sub');
    writeFileAtomic(join(dir, 'x.txt'), 'fine');
    expect(() => writeFileAtomic(join(asDir, 'deep', 'f.txt'), 'data')).toThrow();
    expect(readFileSync(path, 'utf8')).toBe('good');
    expect(readdirSync(dir).sort()).toEqual(['out.csv', 'x.txt']);
  });
});
