// The page: reads the controls, drives the training worker, and draws the loss curve, data, samples, trajectories
// and the velocity field on canvases. `window.rill` exposes the state (the browser tests read it).
import type { Method } from '@rill/flowmatch';
import { TIMES, type BackendName, type FromWorker, type Sampling, type Settings, type ToWorker } from './protocol.js';

const $ = <E extends HTMLElement>(id: string) => document.getElementById(id) as E;
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);

// WebGPU is offered where the browser has it (Chromium on Linux needs --enable-unsafe-webgpu).
if (!('gpu' in navigator)) {
  const option = document.querySelector<HTMLOptionElement>('#backend option[value="webgpu"]')!;
  option.disabled = true;
  option.textContent += ' — not in this browser';
}

/** What the page knows, for drawing and for tests. */
const state = {
  step: 0,
  steps: 0,
  losses: [] as number[],
  stepsPerSecond: 0,
  backend: '',
  training: false,
  w2: [] as { step: number; w2: number; nfe: number; solver: string }[],
  snapshot: null as Extract<FromWorker, { type: 'snapshot' }> | null,
  field: null as Extract<FromWorker, { type: 'field' }> | null,
  painted: [] as number[],
  errors: [] as string[],
  saved: null as ArrayBuffer | null,
  comparison: null as Extract<FromWorker, { type: 'compare' }> | null,
  loaded: 0,
};
(window as unknown as { rill: typeof state }).rill = state;

function settings(): Settings {
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  const hidden = $<HTMLInputElement>('hidden').value.split(',').map(Number);
  if (hidden.some((w) => !Number.isInteger(w) || w < 1)) throw new Error('hidden widths: positive integers separated by commas, e.g. 64,64,64');
  const data = $<HTMLSelectElement>('data').value as Settings['data'];
  return {
    data,
    points: data === 'custom' ? state.painted : undefined,
    steps: num('steps'),
    batch: num('batch'),
    hidden,
    activation: $<HTMLSelectElement>('activation').value as Settings['activation'],
    optimizer: $<HTMLSelectElement>('optimizer').value as Settings['optimizer'],
    lr: num('lr'),
    path: $<HTMLSelectElement>('path').value as Settings['path'],
    sigma: num('sigma'),
    coupling: $<HTMLSelectElement>('coupling').value as Settings['coupling'],
    seed: num('seed'),
    backend: $<HTMLSelectElement>('backend').value as BackendName,
    conditional: $<HTMLInputElement>('conditional').checked,
  };
}

const status = (text: string) => ($('status').textContent = text);
const label = () => ($<HTMLSelectElement>('class').value === '' ? null : Number($<HTMLSelectElement>('class').value));
const guidance = () => Number($<HTMLInputElement>('guidance').value);
const sampling = (): Sampling => ({
  solver: $<HTMLSelectElement>('solver').value as Method,
  steps: Number($<HTMLInputElement>('solver-steps').value),
  label: label(),
  guidance: guidance(),
  diffusion: Number($<HTMLInputElement>('diffusion').value),
});
const requestSnapshot = () => send({ type: 'snapshot', sampling: sampling() });
const requestField = () => send({ type: 'field', t: TIMES[timeIndex()], exact: $<HTMLInputElement>('show-exact').checked, label: label(), guidance: guidance() });
/** The class choices of the current model: ∅, then 0 … K − 1. */
function setClasses(classes: number): void {
  $('class').innerHTML = ['<option value="">∅ (unconditional)</option>', ...Array.from({ length: classes }, (_, k) => `<option value="${k}">${k}</option>`)].join('');
}
const timeIndex = () => Number($<HTMLInputElement>('time').value);

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m.type === 'progress') {
    state.losses.push(...m.losses);
    Object.assign(state, { step: m.step, steps: m.steps, stepsPerSecond: m.stepsPerSecond, backend: m.backend });
    status(`step ${m.step} / ${m.steps} · loss ${m.losses.at(-1)?.toFixed(4) ?? '—'} · ${m.stepsPerSecond.toFixed(0)} steps/s on ${m.backend}`);
    drawLoss();
    if (m.step % 500 < m.losses.length) requestSnapshot(); // about every 500 steps
  } else if (m.type === 'done') {
    state.training = false;
    requestSnapshot();
  } else if (m.type === 'snapshot') {
    state.snapshot = m;
    state.w2.push({ step: m.step, w2: m.w2, nfe: m.nfe, solver: m.solver });
    $('samples-caption').textContent = `Step ${m.step}: ${m.solver}, NFE ${m.nfe}, ${m.seconds.toFixed(2)} s — W2 to the data ${m.w2.toFixed(3)}`;
    if ($<HTMLInputElement>('show-field').checked) requestField();
    drawSamples();
  } else if (m.type === 'started') setClasses(m.classes);
  else if (m.type === 'field') {
    state.field = m;
    drawSamples();
  } else if (m.type === 'compare') {
    state.comparison = m;
    const body = m.rows.map((r) => `<tr><th scope="row">${r.solver}</th><td>${r.nfe}</td><td>${r.w2.toFixed(3)}</td><td>${(r.seconds * 1000).toFixed(0)} ms</td></tr>`).join('');
    $('solvers').innerHTML = `<caption>Solvers at step ${m.step} (500 samples)</caption><tr><th scope="col">solver</th><th scope="col">NFE</th><th scope="col">W2</th><th scope="col">time</th></tr>${body}`;
  } else if (m.type === 'saved') {
    state.saved = m.bytes;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([m.bytes], { type: 'application/octet-stream' }));
    a.download = 'playground.rill';
    a.click();
    URL.revokeObjectURL(a.href);
  } else if (m.type === 'loaded') {
    state.loaded++;
    setClasses(m.classes);
    Object.assign(state, { step: m.step, losses: [] });
    status(`loaded a model at step ${m.step} (trained on ${m.data})`);
    requestSnapshot();
  } else if (m.type === 'error') {
    state.errors.push(m.message);
    state.training = false;
    status(`error: ${m.message}`);
  }
};

$('train').addEventListener('click', () => {
  try {
    const s = settings();
    Object.assign(state, { step: 0, losses: [], w2: [], snapshot: null, field: null, training: true });
    status(`starting on ${s.backend}…`);
    setClasses(0);
    send({ type: 'train', settings: s, sampling: { ...sampling(), label: null } });
  } catch (err) {
    status(`error: ${(err as Error).message}`);
  }
});
$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('save').addEventListener('click', () => send({ type: 'save' }));
$('sample').addEventListener('click', requestSnapshot);
$('compare').addEventListener('click', () => send({ type: 'compare' }));
$<HTMLInputElement>('load').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) send({ type: 'load', bytes: await file.arrayBuffer(), backend: $<HTMLSelectElement>('backend').value as BackendName });
});
$('clear-points').addEventListener('click', () => {
  state.painted = [];
  drawSamples();
});
$('time').addEventListener('input', () => {
  $('time-value').textContent = TIMES[timeIndex()].toFixed(2);
  if ($<HTMLInputElement>('show-field').checked) requestField();
  drawSamples();
});
$('guidance').addEventListener('input', () => ($('guidance-value').textContent = $<HTMLInputElement>('guidance').value));
for (const id of ['class', 'guidance']) $(id).addEventListener('change', requestSnapshot);
// Play: step t from 0 to 1 over about two seconds (the samples move from noise to data along their trajectories).
$('play').addEventListener('click', () => {
  const slider = $<HTMLInputElement>('time');
  let k = 0;
  const tick = () => {
    slider.value = String(k);
    slider.dispatchEvent(new Event('input'));
    if (k++ < TIMES.length - 1) setTimeout(tick, 100);
  };
  tick();
});
for (const id of ['show-field', 'show-paths', 'show-exact']) $(id).addEventListener('change', () => ($<HTMLInputElement>('show-field').checked ? requestField() : drawSamples()));

// ------------------------------------------------------------------------------------------------ drawing

const SPAN = () => state.field?.span ?? Math.max(3, ...(state.snapshot ? Array.from(state.snapshot.data, Math.abs) : [3])) * 1.15;

/** Canvas pixel ↔ data coordinates on the samples canvas (square, centred at 0). */
function toPixel(c: HTMLCanvasElement, x: number, y: number): [number, number] {
  const s = SPAN();
  return [((x + s) / (2 * s)) * c.width, ((s - y) / (2 * s)) * c.height];
}

$<HTMLCanvasElement>('samples').addEventListener('click', (e) => {
  if ($<HTMLSelectElement>('data').value !== 'custom') return;
  const c = e.target as HTMLCanvasElement;
  const r = c.getBoundingClientRect();
  const s = SPAN();
  const px = ((e.clientX - r.left) / r.width) * c.width;
  const py = ((e.clientY - r.top) / r.height) * c.height;
  state.painted.push((px / c.width) * 2 * s - s, s - (py / c.height) * 2 * s);
  drawSamples();
});

function dots(ctx: CanvasRenderingContext2D, c: HTMLCanvasElement, xy: ArrayLike<number>, color: string, r = 1.6): void {
  ctx.fillStyle = color;
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const [px, py] = toPixel(c, xy[i], xy[i + 1]);
    ctx.fillRect(px - r, py - r, 2 * r, 2 * r);
  }
}

function drawSamples(): void {
  const c = $<HTMLCanvasElement>('samples');
  const ctx = c.getContext('2d')!;
  ctx.clearRect(0, 0, c.width, c.height);
  const snap = state.snapshot;
  if (snap) {
    dots(ctx, c, snap.data, 'rgba(31,119,180,0.45)');
    const k = timeIndex();
    if ($<HTMLInputElement>('show-paths').checked) {
      ctx.strokeStyle = 'rgba(80,80,80,0.25)';
      for (let i = 0; i < Math.min(150, snap.trajectory[0].length / 2); i++) {
        ctx.beginPath();
        for (let s = 0; s <= k; s++) {
          const [px, py] = toPixel(c, snap.trajectory[s][2 * i], snap.trajectory[s][2 * i + 1]);
          if (s === 0) ctx.moveTo(px, py);
          else ctx.lineTo(px, py);
        }
        ctx.stroke();
      }
    }
    dots(ctx, c, snap.trajectory[k], 'rgba(214,39,40,0.7)');
  }
  if ($<HTMLInputElement>('show-field').checked && state.field) {
    const f = state.field;
    const scale = (f.span / f.grid) * 0.35;
    const arrows = (uv: Float32Array, color: string) => {
      ctx.strokeStyle = color;
      for (let i = 0; i < f.grid * f.grid; i++) {
        const [x, y, u, v] = [f.xy[2 * i], f.xy[2 * i + 1], uv[2 * i], uv[2 * i + 1]];
        const [p0, p1] = [toPixel(c, x, y), toPixel(c, x + u * scale, y + v * scale)];
        ctx.beginPath();
        ctx.moveTo(...p0);
        ctx.lineTo(...p1);
        ctx.stroke();
      }
    };
    arrows(f.uv, '#1f4e9a');
    if (f.exact) arrows(f.exact, '#ff7f0e'); // the exact field (∗) of 200 data points
  }
  if ($<HTMLSelectElement>('data').value === 'custom') dots(ctx, c, state.painted, '#2ca02c', 2.5);
}

function drawLoss(): void {
  const c = $<HTMLCanvasElement>('loss');
  const ctx = c.getContext('2d')!;
  ctx.clearRect(0, 0, c.width, c.height);
  const ls = state.losses;
  if (ls.length < 2) return;
  // a running mean over ~1 % of the run, on a log scale
  const w = Math.max(5, Math.round(ls.length / 100));
  const smooth = ls.map((_, i) => ls.slice(Math.max(0, i - w + 1), i + 1).reduce((a, b) => a + b, 0) / Math.min(w, i + 1));
  const logs = smooth.map(Math.log);
  const [lo, hi] = [Math.min(...logs), Math.max(...logs)];
  ctx.strokeStyle = '#1f4e9a';
  ctx.beginPath();
  logs.forEach((v, i) => {
    const [x, y] = [(i / (ls.length - 1)) * (c.width - 10) + 5, c.height - 10 - ((v - lo) / (hi - lo || 1)) * (c.height - 20)];
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#1d2330';
  ctx.fillText(`${smooth.at(-1)!.toFixed(3)} (mean of ${w})`, c.width - 130, 14);
}
