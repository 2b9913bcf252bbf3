// Before any work starts: every output location is checked (its folder exists and is writable, the name fits, it is
// not a folder or a write-protected file) and no output is an input or another output of the same run, after links.
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isSpecialFile, linkTarget } from '@rill/flowmatch/node';
import { UsageError, type Flag, type Values } from './flags.js';

/** The file system's limit on one name (NAME_MAX, in bytes, on Linux, macOS and Windows alike). */
const NAME_MAX = 255;

/** Where an output will land: the real path of a regular file (existing or new), or null for a device, FIFO or socket. */
function outputTarget(command: string, flag: string, path: string): string | null {
  const fail = (why: string) => new UsageError(`rill ${command}: --${flag} ${path}: ${why}`);
  if (isSpecialFile(path)) return null; // /dev/null, /dev/stdout (also into a pipe), a FIFO: written straight through
  if (/[/\\]$/.test(path)) throw fail('names a folder (it ends with a slash); give a file name');
  const tooLong = (name: string) => Buffer.byteLength(basename(name)) > NAME_MAX;
  if (tooLong(path)) throw fail(`the file name is ${Buffer.byteLength(basename(path))} bytes, over the limit of ${NAME_MAX} (ENAMETOOLONG)`);
  const target = linkTarget(path); // a symbolic link is written through: check the file it ends at
  const st = statSync(target, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw fail('is a folder (EISDIR); give a file name');
  if (st && (st.mode & 0o222) === 0) throw fail(`is write-protected (mode ${(st.mode & 0o777).toString(8)}); make it writable or write elsewhere`);
  const folder = dirname(target);
  const dir = statSync(folder, { throwIfNoEntry: false });
  if (!dir) throw fail(`the folder ${folder} does not exist (ENOENT)`);
  if (!dir.isDirectory()) throw fail(`${folder} is not a folder (ENOTDIR)`);
  if (tooLong(target)) throw fail(`the link's target name is ${Buffer.byteLength(basename(target))} bytes, over the limit of ${NAME_MAX} (ENAMETOOLONG)`);
  try {
    accessSync(folder, constants.W_OK);
    if (st) accessSync(target, constants.W_OK);
  } catch {
    throw fail(`${st ? 'the file' : `the folder ${folder}`} is not writable (EACCES)`);
  }
  return `${realpathSync(folder)}/${basename(target)}`;
}

/** The real path of an existing input file, or null (a dataset name, a device, nothing there). */
function inputTarget(path: string): string | null {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ? realpathSync(path) : null;
  } catch {
    return null; // not a readable file: the command itself says so when it reads it
  }
}

/**
 * Checks a command's outputs (flags marked `io: 'out'`) against its inputs (`io: 'in'`) before it runs: a usage error
 * names the flag when an output cannot be written there, or when it is the same file as an input or another output
 * (`rill sample: --out m.rill is the same file as --model m.rill`).
 */
export function checkOutputs(command: string, flags: Flag[], values: Values): void {
  const seen = new Map<string, string>(); // real path → the flag that names it
  for (const f of flags.filter((f) => f.io === 'in' && typeof values[f.name] === 'string')) {
    const real = inputTarget(String(values[f.name]));
    if (real) seen.set(real, f.name);
  }
  for (const f of flags.filter((f) => f.io === 'out' && typeof values[f.name] === 'string')) {
    const path = String(values[f.name]);
    const real = outputTarget(command, f.name, path);
    if (real === null) continue;
    const other = seen.get(real);
    if (other !== undefined) {
      throw new UsageError(`rill ${command}: --${f.name} ${path} is the same file as --${other} ${values[other]}; nothing was written (choose another --${f.name})`);
    }
    seen.set(real, f.name);
  }
}
