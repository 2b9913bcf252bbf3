// Line anchors for the docs' links to code: a link whose text names a symbol — [`Trainer.draw`](../…/train.ts) — gets
// the line of that symbol's definition, `train.ts#L72`, so it opens where the symbol is written, not at the top.
//   node scripts/doc-anchors.mjs           rewrites the anchors in README.md, docs/*.md and packages/*/README.md
//   node scripts/doc-anchors.mjs --check   changes nothing; lists each link whose anchor is missing or stale (exit 1)
// The docs test runs --check, so an anchor that no longer lands on its symbol fails CI.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const markdown = [
  'README.md',
  'benchmarks/README.md',
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ...readdirSync(join(ROOT, 'packages')).map((p) => `packages/${p}/README.md`),
].filter((f) => existsSync(join(ROOT, f)));

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The 1-based line where `name` is defined in `lines`, searching from `from`; -1 if none. */
function definition(lines, name, from = 0) {
  const n = escape(name);
  const patterns = [
    new RegExp(`^\\s*(export\\s+)?(default\\s+)?(async\\s+)?function\\*?\\s+${n}\\b`),
    new RegExp(`^\\s*(export\\s+)?(abstract\\s+)?class\\s+${n}\\b`),
    new RegExp(`^\\s*(export\\s+)?(declare\\s+)?(const|let|var|type|interface|enum)\\s+${n}\\b`),
    new RegExp(`^\\s*(public\\s+|private\\s+|protected\\s+|readonly\\s+|static\\s+|async\\s+|get\\s+|set\\s+|\\*\\s*)*#?${n}\\s*[(<]`),
    new RegExp(`^\\s*(readonly\\s+|static\\s+)*#?${n}\\??\\s*[:=]`),
    new RegExp(`^\\s*'?${n}'?\\s*:`),
    new RegExp(`\\(func\\s+(\\$${n}\\b|\\(export\\s+"${n}"\\))`),
  ];
  for (let i = from; i < lines.length; i++) if (patterns.some((p) => p.test(lines[i]))) return i + 1;
  return -1;
}

/** Where a symbol like `Class.method`, `fn`, `fn()` or `$tile4x8` is defined in a file; null if it is not found. */
function locate(file, symbol) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const parts = symbol.replace(/\(.*\)$/, '').replace(/<.*>$/, '').split('.');
  if (parts.some((p) => !/^[$#\w]+$/.test(p))) return null;
  let from = 0;
  for (let k = 0; k < parts.length; k++) {
    const line = definition(lines, parts[k].replace(/^\$/, ''), from);
    if (line < 0) return null;
    from = line; // a member is looked for after its class
    if (k === parts.length - 1) return line;
  }
  return null;
}

const LINK = /\[`([^`\]]+)`\]\(([^)\s#]+\.(?:ts|mjs|wat))(#L(\d+))?\)/g;
const problems = [];
let changed = 0;
for (const md of markdown) {
  const path = join(ROOT, md);
  const text = readFileSync(path, 'utf8');
  const out = text.replace(LINK, (whole, symbol, target, _anchor, line) => {
    const file = join(dirname(path), target);
    if (!existsSync(file)) return whole; // broken links are the links test's to report
    const at = locate(file, symbol);
    if (at === null) return whole; // the text is not a symbol defined there (a file name, an expression): left alone
    if (Number(line) === at) return whole;
    problems.push(`${md}: [\`${symbol}\`](${target}${line ? `#L${line}` : ''}) → ${relative(ROOT, file)}#L${at}`);
    changed++;
    return `[\`${symbol}\`](${target}#L${at})`;
  });
  if (!check && out !== text) writeFileSync(path, out);
}
if (check && problems.length) {
  console.error(`${problems.length} link(s) to code without the line of their symbol (run node scripts/doc-anchors.mjs):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(check ? 'doc-anchors: every link to a symbol lands on its line' : `doc-anchors: ${changed} anchor(s) written`);
