// Builds the generated kernels, before tsc:
// 1. prints the elementwise formulas of src/formulas.ts into each backend's code (codegen/generate.ts): the
//    src/**/*.generated.ts files and src/wasm/formulas.generated.wat;
// 2. assembles the WebAssembly text in src/wasm/*.wat into one module (with the wabt assembler) and writes it as
//    src/wasm/kernels.generated.ts (the bytes, base64-encoded, for a shared and a non-shared memory) and as
//    dist/wasm/kernels.wasm, kernels.shared.wasm — after binaryen's optimizer has inlined the small helpers (optimize).
// Run by `pnpm build`; the generated files are not committed.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import wabtInit from 'wabt';
import binaryen from 'binaryen';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'src', 'wasm');
// The order matters only for reading: helpers before their callers.
const SOURCES = ['matmul.wat', 'activations.wat', 'formulas.generated.wat', 'elementwise.wat', 'conv.wat', 'norm.wat', 'image.wat', 'winograd.wat'];

/** Writes `text` to `path` through a temporary file, and only when it changed (tsc -b then skips unchanged work). */
function writeIfChanged(path, text) {
  try {
    if (readFileSync(path, 'utf8') === text) return;
  } catch {}
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Imports codegen/generate.ts: transpiled (types dropped) with src/formulas.ts into a temporary folder. */
async function loadGenerator() {
  const tmp = mkdtempSync(join(tmpdir(), 'rill-codegen-'));
  try {
    const files = [...readdirSync(join(root, 'codegen')).map((f) => `codegen/${f}`), 'src/formulas.ts'];
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }');
    for (const file of files.filter((f) => f.endsWith('.ts'))) {
      const { outputText } = ts.transpileModule(readFileSync(join(root, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
        fileName: file,
      });
      mkdirSync(join(tmp, dirname(file)), { recursive: true });
      writeFileSync(join(tmp, file.replace(/\.ts$/, '.js')), outputText);
    }
    return await import(pathToFileURL(join(tmp, 'codegen', 'generate.js')).href);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const { generate } = await loadGenerator();
const { files, simdUnary, simdBinary } = generate();
for (const [path, text] of Object.entries(files)) writeIfChanged(join(root, path), text);

/**
 * Repeats each `;; @for name in a b c` … `;; @end` block once per value, with `{name}` replaced by the value; the list
 * may be `@simd-unary` or `@simd-binary` (the ops marked `simd` in src/formulas.ts), and in a binary block `{f}` is
 * the op's vector expression on $va and $vb.
 */
function expandTemplates(text) {
  const lists = { '@simd-unary': simdUnary, '@simd-binary': Object.keys(simdBinary) };
  return text.replace(/;; @for (\w+) in ([^\n]+)\n([\s\S]*?);; @end\n/g, (_, name, values, body) => {
    const list = lists[values.trim()] ?? values.trim().split(/\s+/);
    return list.map((v) => body.replaceAll(`{${name}}`, v).replaceAll('{f}', simdBinary[v] ?? '{f}')).join('\n');
  });
}

const wabt = await wabtInit();
const body = SOURCES.map((f) => expandTemplates(readFileSync(join(dir, f), 'utf8'))).join('\n');

/**
 * The relaxed-SIMD variant: the matmul tile's (and matmulNarrow's) multiply-adds c += s·b as f32x4.relaxed_madd, a fused multiply-add where
 * the hardware has one (one rounding instead of two: other bits than the default variant, still deterministic on one
 * machine). Chosen at run time where the engine validates it (browsers; Node 20 behind --experimental-wasm-relaxed-simd).
 */
function relaxed(text) {
  let count = 0;
  const out = text.replace(/\(f32x4\.add \(local\.get (\$c\d\d)\) \(f32x4\.mul \(local\.get \$s\) \(local\.get (\$b\d)\)\)\)/g, (_, c, b) => {
    count++;
    return `(f32x4.relaxed_madd (local.get $s) (local.get ${b}) (local.get ${c}))`;
  });
  if (count !== 12) throw new Error(`build-kernels: expected the tile's 8 and matmulNarrow's 4 multiply-adds in matmul.wat, found ${count}`);
  return out;
}

function assemble(memory, source = body, relaxedSimd = false) {
  const text = `(module\n  (import "env" "memory" ${memory})\n${source}\n)\n`;
  // UTF-8 bytes: given a string, wabt.js keeps only the low byte of each character (U+230A '⌊' became a newline).
  const module = wabt.parseWat('kernels.wat', new TextEncoder().encode(text), { simd: true, threads: true, relaxed_simd: relaxedSimd });
  try {
    return module.toBinary({ write_debug_names: true }).buffer; // names: profiles show tile4x8, unpanel, … not wasm-function[0]
  } finally {
    module.destroy();
  }
}

// Shared memory (threads, and views that survive growth) needs a maximum; 32768 pages of 64 KiB = 2 GiB.
/**
 * Inlines the small helpers into the loops that call them ($activate → $silu_f → $logistic → $exp …, 4 lanes at a
 * time) with binaryen's optimizer: V8 (Node 20) does not inline wasm calls, and a call per vector cost the SIMD
 * activations more than their arithmetic. Float semantics are untouched (binaryen does not reassociate or fuse
 * floating-point ops), so every kernel gives the same bits as the text it was assembled from.
 */
function optimize(bytes) {
  if (process.env.RILL_WASM_OPT === '0') return bytes;
  const module = binaryen.readBinary(bytes);
  try {
    module.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.Atomics | binaryen.Features.Multivalue | binaryen.Features.BulkMemory | binaryen.Features.SignExt | binaryen.Features.NontrappingFPToInt | binaryen.Features.MutableGlobals | binaryen.Features.RelaxedSIMD);
    // -O3 with calls to functions up to 1000 nodes inlined (flexible inlining needs -O3); RILL_WASM_OPT=0 skips it
    binaryen.setOptimizeLevel(Number(process.env.RILL_WASM_O ?? 3));
    binaryen.setShrinkLevel(0);
    binaryen.setDebugInfo(true); // keep the names
    binaryen.setFlexibleInlineMaxSize(Number(process.env.RILL_WASM_INLINE ?? 1000));
    module.optimize();
    if (!module.validate()) throw new Error('build-kernels: binaryen produced an invalid module');
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

const shared = optimize(assemble('(memory 1 32768 shared)'));
const unshared = optimize(assemble('(memory 1 32768)'));
const relaxedBody = relaxed(body);
const sharedRelaxed = optimize(assemble('(memory 1 32768 shared)', relaxedBody, true));
const unsharedRelaxed = optimize(assemble('(memory 1 32768)', relaxedBody, true));
for (const bytes of [shared, unshared]) {
  if (!WebAssembly.validate(bytes)) throw new Error('build-kernels: the assembled module does not validate');
}
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
writeIfChanged(
  join(dir, 'kernels.generated.ts'),
  `// Generated by scripts/build-kernels.mjs from ${SOURCES.join(', ')}: do not edit.\n` +
    `export const KERNELS_SHARED = '${b64(shared)}';\n` +
    `export const KERNELS_UNSHARED = '${b64(unshared)}';\n` +
    `export const KERNELS_SHARED_RELAXED = '${b64(sharedRelaxed)}';\n` +
    `export const KERNELS_UNSHARED_RELAXED = '${b64(unsharedRelaxed)}';\n`,
);
// The same bytes as files, for pages that fetch them: initWasm({ url }).
const dist = join(dir, '..', '..', 'dist', 'wasm');
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'kernels.wasm'), unshared);
writeFileSync(join(dist, 'kernels.shared.wasm'), shared);
writeFileSync(join(dist, 'kernels.relaxed.wasm'), unsharedRelaxed);
writeFileSync(join(dist, 'kernels.shared.relaxed.wasm'), sharedRelaxed);
console.log(`build-kernels: ${shared.length} bytes → src/wasm/kernels.generated.ts`);
