// The documentation: the API reference builds with TSDoc on every exported symbol (typedoc fails on an undocumented
// one), every relative link and image in the Markdown resolves, and scripts/figures.sh (--check: small budgets, into a
// temporary folder) produces exactly the figures in docs/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f));
  const packages = readdirSync(join(ROOT, 'packages')).map((p) => join(ROOT, 'packages', p, 'README.md'));
  return [join(ROOT, 'README.md'), join(ROOT, 'benchmarks/README.md'), ...docs, ...packages].filter((f) => existsSync(f));
}

function pngsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? pngsUnder(p) : f.endsWith('.png') ? [p] : [];
  });
}

describe('documentation', () => {
  it('typedoc builds the API reference with no warning: every exported symbol has TSDoc', () => {
    const out = mkdtempSync(join(tmpdir(), 'rill-api-'));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const text = `${r.stdout}${r.stderr}`;
    expect(text).not.toMatch(/does not have any documentation/);
    expect(r.status, text).toBe(0);
    for (const m of ['_rill_tensor', '_rill_tensor_webgpu', '_rill_autograd', '_rill_flowmatch', '_rill_flowmatch_node', '_rill_cli']) {
      expect(existsSync(join(out, 'modules', `${m}.html`)), m).toBe(true);
    }
  }, 120_000);

  it('every relative link and image in the Markdown points at a file that exists', () => {
    const broken: string[] = [];
    const files = markdownFiles();
    expect(files.length).toBeGreaterThan(8);
    for (const file of files) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, ''); // links inside code blocks are code
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1].split('#')[0];
        if (target === '' || /^[a-z]+:/.test(target)) continue; // an anchor in the same file, or a URL
        if (!existsSync(join(dirname(file), decodeURIComponent(target)))) broken.push(`${relative(ROOT, file)} → ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every link to a symbol in the code carries the line where that symbol is defined (scripts/doc-anchors.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/doc-anchors.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    // and the check itself bites: a wrong line is reported
    const md = readFileSync(join(ROOT, 'docs/3-flow-matching.md'), 'utf8');
    const m = md.match(/\[`([\w.]+)`\]\(\.\.\/packages\/flowmatch\/src\/paths\.ts#L(\d+)\)/);
    expect(m, 'a link with a line anchor in chapter 3').not.toBeNull();
    const line = readFileSync(join(ROOT, 'packages/flowmatch/src/paths.ts'), 'utf8').split('\n')[Number(m![2]) - 1];
    expect(line).toContain(m![1].split('.').pop());
  });

  it('scripts/figures.sh --check produces every figure in docs/, and nothing else (a figure no longer made fails here)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-figures-'));
    try {
      const r = spawnSync('bash', [join(ROOT, 'scripts/figures.sh'), '--check', dir], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
      expect(r.status, `${r.stdout}${r.stderr}`.slice(-3000)).toBe(0);
      const made = pngsUnder(dir).map((p) => relative(dir, p)).filter((p) => !p.startsWith('out/')).sort();
      const docs = pngsUnder(join(ROOT, 'docs')).map((p) => relative(join(ROOT, 'docs'), p)).sort();
      expect(made).toEqual(docs);
      for (const name of made) {
        const bytes = readFileSync(join(dir, name));
        expect(bytes.subarray(0, 8).toString('hex'), `${name} is a PNG`).toBe('89504e470d0a1a0a');
        expect(bytes.length, `${name} has content`).toBeGreaterThan(5000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
