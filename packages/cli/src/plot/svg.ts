// A small chart builder that writes SVG: axes with "nice" ticks, labels, a legend, and scatter, line, arrow (quiver)
// and heat-map layers — enough for every figure `rill` draws.

/** What every layer may have. */
interface LayerBase {
  /** Puts the layer in the legend under this name. */
  label?: string;
}

/** Points, interleaved: x₀, y₀, x₁, y₁, … */
export interface ScatterLayer extends LayerBase {
  kind: 'scatter';
  /** The points (2n numbers). */
  xy: ArrayLike<number>;
  /** CSS colour. */
  color: string;
  /** Dot radius in pixels (default 1.6). */
  radius?: number;
  /** Fill opacity (default 0.7). */
  opacity?: number;
}

/** A polyline through (x[i], y[i]). */
export interface LineLayer extends LayerBase {
  kind: 'line';
  /** The x coordinates. */
  x: ArrayLike<number>;
  /** The y coordinates, as many as x. */
  y: ArrayLike<number>;
  /** CSS colour. */
  color: string;
  /** Stroke width in pixels (default 1.5). */
  width?: number;
}

/** Many polylines (trajectories), each interleaved x₀, y₀, x₁, y₁, … */
export interface PathsLayer extends LayerBase {
  kind: 'paths';
  /** One array per path. */
  xy: ArrayLike<number>[];
  /** CSS colour. */
  color: string;
  /** Stroke opacity (default 0.35). */
  opacity?: number;
}

/** Arrows from each point xy along uv × scale (a quiver plot of a vector field). */
export interface ArrowsLayer extends LayerBase {
  kind: 'arrows';
  /** Arrow tails, interleaved. */
  xy: ArrayLike<number>;
  /** Vectors, interleaved like xy. */
  uv: ArrayLike<number>;
  /** CSS colour. */
  color: string;
  /** Data units of arrow per unit of vector. */
  scale: number;
}

/** nx × ny cells over the box x × y, coloured by value (a viridis-like ramp from the smallest to the largest). */
export interface HeatmapLayer extends LayerBase {
  kind: 'heatmap';
  /** Row-major values, row 0 at the bottom (y[0]). */
  values: ArrayLike<number>;
  /** Cells across. */
  nx: number;
  /** Cells down. */
  ny: number;
  /** The box's x range. */
  x: [number, number];
  /** The box's y range. */
  y: [number, number];
}

/** What a chart draws, in data coordinates. */
export type Layer = ScatterLayer | LineLayer | PathsLayer | ArrowsLayer | HeatmapLayer;

/** One panel of a figure: axes with "nice" ticks, labels, a legend, and its layers drawn in order. */
export interface Chart {
  /** Shown above the panel. */
  title: string;
  /** Label under the x axis. */
  xLabel: string;
  /** Label beside the y axis. */
  yLabel: string;
  /** Drawn in order (later layers on top). */
  layers: Layer[];
  /** The x range in data units; computed from the layers when omitted. */
  x?: [number, number];
  /** The y range; computed from the layers when omitted. */
  y?: [number, number];
  /** Same scale on both axes (point clouds), or not (loss curves). */
  equal?: boolean;
  /** A logarithmic x axis (base 10; give a positive range). */
  logX?: boolean;
  /** A logarithmic y axis (base 10; give a positive range). */
  logY?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (v: number) => (Math.round(v * 100) / 100).toString();

/** Tick positions at 1, 2 or 5 × 10^k spacing, about `count` of them across [lo, hi] (Heckbert's "nice numbers"). */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  const raw = (hi - lo) / count || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

function extent(layers: Layer[], axis: 0 | 1): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const take = (v: number) => {
    if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  };
  for (const l of layers) {
    if (l.kind === 'scatter' || l.kind === 'arrows') for (let i = axis; i < l.xy.length; i += 2) take(l.xy[i]);
    else if (l.kind === 'paths') for (const p of l.xy) for (let i = axis; i < p.length; i += 2) take(p[i]);
    else if (l.kind === 'line') for (const v of Array.from(axis === 0 ? l.x : l.y)) take(v);
    else (axis === 0 ? l.x : l.y).forEach(take);
  }
  if (lo === Infinity) return [0, 1];
  const pad = (hi - lo) * 0.05 || 0.5;
  return [lo - pad, hi + pad];
}

/** Viridis-like colour ramp for heat maps, t ∈ [0, 1]. */
function ramp(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * (x - i)));
  return `rgb(${c.join(',')})`;
}

/** One chart as an SVG fragment of size w × h (placed by `figure`). */
export function chartSvg(chart: Chart, w: number, h: number): string {
  const m = { left: 62, right: 16, top: 34, bottom: 48 };
  let [x0, x1] = chart.x ?? extent(chart.layers, 0);
  let [y0, y1] = chart.y ?? extent(chart.layers, 1);
  const pw = w - m.left - m.right;
  const ph = h - m.top - m.bottom;
  if (chart.equal) {
    // Widen the shorter range so one data unit has the same length on both axes.
    const scale = Math.max((x1 - x0) / pw, (y1 - y0) / ph);
    const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
    [x0, x1, y0, y1] = [cx - (scale * pw) / 2, cx + (scale * pw) / 2, cy - (scale * ph) / 2, cy + (scale * ph) / 2];
  }
  const tx = (v: number) => (chart.logX ? Math.log10(Math.max(v, 1e-12)) : v);
  const ty = (v: number) => (chart.logY ? Math.log10(Math.max(v, 1e-12)) : v);
  const [lx0, lx1] = chart.logX ? [tx(Math.max(x0, 1e-12)), tx(x1)] : [x0, x1];
  const [ly0, ly1] = chart.logY ? [ty(Math.max(y0, 1e-12)), ty(y1)] : [y0, y1];
  const sx = (v: number) => m.left + ((tx(v) - lx0) / (lx1 - lx0)) * pw;
  const sy = (v: number) => m.top + ph - ((ty(v) - ly0) / (ly1 - ly0)) * ph;
  const out: string[] = [`<rect x="0" y="0" width="${w}" height="${h}" fill="white"/>`];
  out.push(`<clipPath id="c${w}${h}"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath>`);
  const body: string[] = [];
  for (const l of chart.layers) {
    if (l.kind === 'heatmap') {
      const [vmin, vmax] = [Math.min(...Array.from(l.values)), Math.max(...Array.from(l.values))];
      const cw = (l.x[1] - l.x[0]) / l.nx;
      const chh = (l.y[1] - l.y[0]) / l.ny;
      for (let j = 0; j < l.ny; j++)
        for (let i = 0; i < l.nx; i++) {
          const v = (l.values[j * l.nx + i] - vmin) / (vmax - vmin || 1);
          const [ax, ay] = [sx(l.x[0] + i * cw), sy(l.y[0] + (j + 1) * chh)];
          body.push(`<rect x="${f(ax)}" y="${f(ay)}" width="${f(sx(l.x[0] + (i + 1) * cw) - ax + 0.5)}" height="${f(sy(l.y[0] + j * chh) - ay + 0.5)}" fill="${ramp(v)}"/>`);
        }
    } else if (l.kind === 'scatter') {
      const r = l.radius ?? 1.6;
      const dots: string[] = [];
      for (let i = 0; i + 1 < l.xy.length; i += 2) dots.push(`<circle cx="${f(sx(l.xy[i]))}" cy="${f(sy(l.xy[i + 1]))}" r="${r}"/>`);
      body.push(`<g fill="${l.color}" fill-opacity="${l.opacity ?? 0.7}">${dots.join('')}</g>`);
    } else if (l.kind === 'line') {
      const pts = Array.from(l.x, (xv, i) => `${f(sx(xv))},${f(sy(l.y[i]))}`).join(' ');
      body.push(`<polyline points="${pts}" fill="none" stroke="${l.color}" stroke-width="${l.width ?? 1.5}"/>`);
    } else if (l.kind === 'paths') {
      for (const p of l.xy) {
        const pts: string[] = [];
        for (let i = 0; i + 1 < p.length; i += 2) pts.push(`${f(sx(p[i]))},${f(sy(p[i + 1]))}`);
        body.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${l.color}" stroke-opacity="${l.opacity ?? 0.35}" stroke-width="0.8"/>`);
      }
    } else {
      for (let i = 0; i + 1 < l.xy.length; i += 2) {
        const [ax, ay] = [sx(l.xy[i]), sy(l.xy[i + 1])];
        const [bx, by] = [sx(l.xy[i] + l.scale * l.uv[i]), sy(l.xy[i + 1] + l.scale * l.uv[i + 1])];
        const [dx, dy] = [bx - ax, by - ay];
        const len = Math.hypot(dx, dy) || 1;
        const [hx, hy] = [(-dx / len) * 4, (-dy / len) * 4];
        body.push(`<path d="M${f(ax)},${f(ay)}L${f(bx)},${f(by)}M${f(bx + hx - hy * 0.6)},${f(by + hy + hx * 0.6)}L${f(bx)},${f(by)}L${f(bx + hx + hy * 0.6)},${f(by + hy - hx * 0.6)}" stroke="${l.color}" fill="none" stroke-width="1"/>`);
      }
    }
  }
  out.push(`<g clip-path="url(#c${w}${h})">${body.join('')}</g>`);
  // Axes, ticks and labels.
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  const decades = (lo: number, hi: number) => niceTicks(lo, hi).filter(Number.isInteger).map((e) => 10 ** e);
  const xTicks = chart.logX ? decades(lx0, lx1) : niceTicks(x0, x1);
  for (const t of xTicks) {
    out.push(`<line x1="${f(sx(t))}" y1="${m.top + ph}" x2="${f(sx(t))}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${f(sx(t))}" y="${m.top + ph + 18}" text-anchor="middle" font-size="11">${+t.toPrecision(6)}</text>`);
  }
  const yTicks = chart.logY ? decades(ly0, ly1) : niceTicks(y0, y1);
  for (const t of yTicks) {
    out.push(`<line x1="${m.left - 5}" y1="${f(sy(t))}" x2="${m.left}" y2="${f(sy(t))}" stroke="#333"/>`);
    out.push(`<text x="${m.left - 8}" y="${f(sy(t) + 4)}" text-anchor="end" font-size="11">${+t.toPrecision(6)}</text>`);
  }
  out.push(`<text x="${m.left + pw / 2}" y="${h - 10}" text-anchor="middle" font-size="13">${esc(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">${esc(chart.yLabel)}</text>`);
  out.push(`<text x="${m.left + pw / 2}" y="20" text-anchor="middle" font-size="15">${esc(chart.title)}</text>`);
  const labelled = chart.layers.filter((l) => l.label && l.kind !== 'heatmap');
  labelled.forEach((l, i) => {
    const y = m.top + 14 + i * 16;
    const color = (l as { color: string }).color;
    out.push(`<rect x="${m.left + pw - 132}" y="${y - 9}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${m.left + pw - 116}" y="${y}" font-size="11">${esc(l.label!)}</text>`);
  });
  return out.join('\n');
}

/** A figure of one or more charts in a row, each w × h pixels. */
export function figure(charts: Chart[], w = 480, h = 440, columns = charts.length): { svg: string; width: number; height: number } {
  const cols = Math.max(1, Math.min(columns, charts.length));
  const [width, height] = [w * cols, h * Math.ceil(charts.length / cols)];
  const panels = charts.map((c, i) => `<svg x="${(i % cols) * w}" y="${Math.floor(i / cols) * h}" width="${w}" height="${h}">${chartSvg(c, w, h)}</svg>`).join('\n');
  return {
    svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans">${panels}</svg>`,
    width,
    height,
  };
}
