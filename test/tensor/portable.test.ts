// The packages must run in browsers: no source file may import a `node:` module or a Node builtin (the Node-only parts
// live apart: flowmatch's `/node` entry and CLI, tensor's `/threads` entry).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BUILTINS = ['fs', 'path', 'os', 'url', 'child_process', 'crypto', 'util', 'worker_threads', 'process', 'buffer'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('browser-safe packages', () => {
  for (const pkg of ['tensor', 'autograd', 'flowmatch']) {
    it(`@rill/${pkg} imports no node: modules${pkg === 'flowmatch' ? ' (outside its /node entry)' : ''}`, () => {
      const nodeOnly = new Set([join(root, 'packages', 'flowmatch', 'src', 'node.ts')]);
      const nodeDirs = [join('flowmatch', 'src', 'cli'), join('tensor', 'src', 'threads')]; // Node-only entry points
      const files = sources(join(root, 'packages', pkg, 'src')).filter((f) => !nodeOnly.has(f) && !nodeDirs.some((d) => f.includes(d)));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const specifiers = [...readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
        const bad = specifiers.filter((s) => s.startsWith('node:') || BUILTINS.includes(s));
        expect(bad, f).toEqual([]);
      }
    });
  }
});
