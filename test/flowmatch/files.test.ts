// writeFileAtomic under failure, driven in a child process whose file system calls are wrapped: a signal that lands in
// the middle of a write, and a disk that fills up. Neither may leave a half-written file or a temporary one behind.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readBytes, writeFileAtomic } from '@rill/flowmatch/node';

const NODE_JS = fileURLToPath(new URL('../../packages/flowmatch/dist/node.js', import.meta.url));

/** Runs writeFileAtomic(target, 1 MB) in a child whose fs.writeSync first does `sabotage` (JavaScript source). */
function writeWith(sabotage: string, target: string) {
  const program = `
    import fs from 'node:fs';
    import { syncBuiltinESMExports } from 'node:module';
    const real = fs.writeSync;
    fs.writeSync = (...args) => { ${sabotage}; return real(...args); };
    syncBuiltinESMExports();
    const { writeFileAtomic } = await import(${JSON.stringify(NODE_JS)});
    try { writeFileAtomic(${JSON.stringify(target)}, 'y'.repeat(1_000_000)); console.log('written'); }
    catch (e) { console.log(e.message); }
    setTimeout(() => console.log('still alive'), 500);`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
}

describe('writeFileAtomic', () => {
  it('a SIGTERM in the middle of the write: the file is completed and renamed, then the signal ends the process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-files-'));
    const target = join(dir, 'out.csv');
    writeFileSync(target, 'old\n');
    const r = writeWith("process.kill(process.pid, 'SIGTERM')", target);
    expect(r.stdout).toBe('written\n'); // the write finished; 'still alive' never printed
    expect(r.signal).toBe('SIGTERM');
    expect(readFileSync(target, 'utf8')).toBe('y'.repeat(1_000_000));
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it('a full disk (ENOSPC): one-line error naming the file, the old file untouched, no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-files-'));
    const target = join(dir, 'model.rill');
    writeFileSync(target, 'the last good model');
    const r = writeWith("throw Object.assign(new Error('no space'), { code: 'ENOSPC' })", target);
    expect(r.stdout).toBe(`${target}: cannot write the file (ENOSPC: no space left on the device)\nstill alive\n`);
    expect(readFileSync(target, 'utf8')).toBe('the last good model');
    expect(readdirSync(dir)).toEqual(['model.rill']);
  });

  it('a relative link inside a linked folder is followed as the kernel follows it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-files-'));
    mkdirSync(join(dir, 'real', 'runs'), { recursive: true });
    mkdirSync(join(dir, 'real', 'shared'));
    symlinkSync(join(dir, 'real', 'runs'), join(dir, 'runs')); // runs → real/runs
    symlinkSync('../shared/m.csv', join(dir, 'real', 'runs', 'm.csv')); // real/runs/m.csv → real/shared/m.csv
    writeFileAtomic(join(dir, 'runs', 'm.csv'), 'through\n');
    expect(readFileSync(join(dir, 'real', 'shared', 'm.csv'), 'utf8')).toBe('through\n');
    expect(readdirSync(dir).sort()).toEqual(['real', 'runs']); // nothing written beside the link by mistake
  });

  it('readBytes refuses a device, which could stream forever', () => {
    expect(() => readBytes('/dev/zero')).toThrow('/dev/zero: cannot read the file: it is not a regular file');
  });
});
