// Autodiff on four numbers, as micrograd teaches it: L = tanh(a·b + c) · a, its graph walked backwards by backward(),
// every gradient checked against the chain rule worked by hand, and a figure of the tangent lines those gradients
// draw. Run: npx pnpm@12.4.2 example scalar
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as A from '@rill/autograd';
import { svgToPng, writeFigure, type Chart } from '@rill/cli';
import * as T from '@rill/tensor';

const scalar = (v: number) => new A.Var(T.tensor(v, { dtype: 'float64' }), { requiresGrad: true });
const [a, b, c] = [scalar(0.5), scalar(-1.5), scalar(1)];

// Forward: each line records one node of the graph
const e = A.mul(a, b).retainGrad(); // e = a·b   (retainGrad: keep this inner node's gradient, to show it)
const d = A.add(e, c).retainGrad(); // d = e + c
const t = A.tanh(d).retainGrad(); //   t = tanh d
const L = A.mul(t, a).retainGrad(); // L = t·a   (a is used twice: its gradient is the sum over both paths)
L.backward(); //                       walks L → t → d → {e, c} → {a, b}, and a again

// By hand, the chain rule from the top: ∂L/∂t = a; ∂L/∂d = ∂L/∂t · (1 − t²); ∂L/∂e = ∂L/∂c = ∂L/∂d;
// ∂L/∂b = ∂L/∂e · a; ∂L/∂a = t (through L = t·a) + ∂L/∂e · b (through e = a·b)
const [av, bv, tv] = [a.value.item(), b.value.item(), t.value.item()];
const dt = av;
const dd = dt * (1 - tv * tv);
const byHand = { a: tv + dd * bv, b: dd * av, c: dd };
const rows: [string, A.Var, number][] = [['a', a, byHand.a], ['b', b, byHand.b], ['c', c, byHand.c], ['e', e, dd], ['d', d, dd], ['t', t, dt], ['L', L, 1]];
console.log('node   value        ∂L/∂node by backward()   by hand');
for (const [name, v, hand] of rows) {
  console.log(`${name.padEnd(7)}${v.value.item().toFixed(6).padStart(9)}   ${v.grad!.item().toFixed(6).padStart(10).padEnd(23)}  ${hand.toFixed(6).padStart(9)}`);
}
const difference = Math.max(...rows.map(([, v, hand]) => Math.abs(v.grad!.item() - hand)));
console.log(`largest difference = ${difference.toExponential(2)}`);

// The figure: L as a function of one input, the others fixed, and the tangent line whose slope is backward()'s gradient
const Lof = (x: number, y: number, z: number) => Math.tanh(x * y + z) * x;
const panel = (name: string, at: number, slope: number, f: (u: number) => number): Chart => {
  const us = Array.from({ length: 121 }, (_, k) => at - 3 + k / 20);
  return {
    title: `L(${name}): slope ∂L/∂${name} = ${slope.toFixed(3)} from backward()`,
    xLabel: name,
    yLabel: 'L',
    layers: [
      { kind: 'line', x: us, y: us.map(f), color: '#1f77b4', width: 2, label: 'L' },
      { kind: 'line', x: [at - 1, at + 1], y: [f(at) - slope, f(at) + slope], color: '#d62728', width: 2, label: 'tangent' },
      { kind: 'scatter', xy: [at, f(at)], color: '#d62728', radius: 4 },
    ],
  };
};
const out = fileURLToPath(new URL('../../out/examples/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFigure(`${out}scalar.png`, [
  panel('a', av, a.grad!.item(), (u) => Lof(u, bv, c.value.item())),
  panel('c', c.value.item(), c.grad!.item(), (u) => Lof(av, bv, u)),
]);
console.log(`figure: ${out}scalar.png`);

// The graph itself: each node's value (forward) and gradient (backward), drawn as boxes and arrows
const node = (name: string, v: A.Var, x: number, y: number, label: string) => ({ name, v, x, y, label });
const at = {
  a: node('a', a, 90, 60, 'a'), b: node('b', b, 90, 190, 'b'), c: node('c', c, 90, 320, 'c'),
  e: node('e', e, 330, 125, 'e = a·b'), d: node('d', d, 540, 220, 'd = e + c'), t: node('t', t, 750, 220, 't = tanh d'), L: node('L', L, 960, 140, 'L = t·a'),
};
const edges: [keyof typeof at, keyof typeof at][] = [['a', 'e'], ['b', 'e'], ['e', 'd'], ['c', 'd'], ['d', 't'], ['t', 'L'], ['a', 'L']];
const W = 150;
const H = 70;
const box = ({ x, y, label, v }: (typeof at)[keyof typeof at]) => `<rect x="${x - W / 2}" y="${y - H / 2}" width="${W}" height="${H}" rx="8" fill="#f4f8fc" stroke="#1f77b4"/>
<text x="${x}" y="${y - 12}" text-anchor="middle" font-size="16">${label}</text>
<text x="${x}" y="${y + 8}" text-anchor="middle" font-size="14">value ${v.value.item().toFixed(4)}</text>
<text x="${x}" y="${y + 26}" text-anchor="middle" font-size="14" fill="#d62728">grad ${v.grad!.item().toFixed(4)}</text>`;
const arrow = ([p, q]: [keyof typeof at, keyof typeof at]) => {
  const [u, v] = [at[p], at[q]];
  const curve = p === 'a' && q === 'L' ? ` Q ${(u.x + v.x) / 2} ${u.y - 70}` : '';
  return `<path d="M ${u.x + W / 2} ${u.y}${curve} ${v.x - W / 2} ${v.y}" fill="none" stroke="#555" stroke-width="1.5" marker-end="url(#head)"/>`;
};
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1060" height="380" font-family="DejaVu Sans">
<defs><marker id="head" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#555"/></marker></defs>
<text x="530" y="370" text-anchor="middle" font-size="14">forward: values left to right · backward(): gradients ∂L/∂node right to left (red); a gets the sum of its two paths</text>
${edges.map(arrow).join('\n')}
${Object.values(at).map(box).join('\n')}
</svg>`;
writeFileSync(`${out}scalar-graph.png`, svgToPng(svg));
console.log(`figure: ${out}scalar-graph.png`);
