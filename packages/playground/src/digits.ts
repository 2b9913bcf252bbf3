// The digits page: load a class-conditional image model (.rill: the shipped one, public/mnist.rill, or a file), then
// sample one digit by Euler steps of the guided field, drawing x_t after every step and a strip at t = 0, ¼, ½, ¾, 1.
// globalThis.rill exposes the page's state for the browser tests.
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';

const $ = <E extends HTMLElement>(id: string) => document.getElementById(id) as E;
const state = { ready: false, generating: false, step: 0, steps: 0, label: -1, pixels: [] as number[], errors: [] as string[], model: '', backend: '' };
(globalThis as unknown as { rill: typeof state }).rill = state;

let model: F.FieldModel | null = null;
let config: F.TrainConfig | null = null;

function fail(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  state.errors.push(message);
  $('status').textContent = `Error: ${message}`;
}

/** Draws one image (pixels in [−1, 1], side × side) into a canvas region, white digit on black. */
function draw(canvas: HTMLCanvasElement, pixels: ArrayLike<number>, side: number, x = 0, y = 0, size = canvas.height): void {
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = Math.round(Math.min(1, Math.max(0, (pixels[i] + 1) / 2)) * 255);
    img.data.set([v, v, v, 255], 4 * i);
  }
  const tmp = new OffscreenCanvas(side, side);
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, x, y, size, size);
}

async function loadModel(bytes: Uint8Array, name: string): Promise<void> {
  state.ready = false;
  const ckpt = F.decodeCheckpoint(bytes, name);
  const c = { ...F.DEFAULT_CONFIG, ...(ckpt.config as Partial<F.TrainConfig>) };
  if (!(c.data in F.IMAGE_DATA) && c.model !== 'unet') throw new Error(`${name} is a model of ${c.dim}-dimensional points; this page draws images (the 2D playground opens it)`);
  if (c.classes === 0) throw new Error(`${name} is unconditional; this page samples a chosen digit (train with --cond class)`);
  model?.dispose();
  model = F.modelFromCheckpoint(ckpt, { ema: true });
  config = c;
  $<HTMLSelectElement>('digit').replaceChildren(...Array.from({ length: c.classes }, (_, k) => new Option(String(k), String(k))));
  $<HTMLSelectElement>('digit').value = String(Math.min(3, c.classes - 1));
  $('model-info').textContent = `${name}: ${c.model === 'unet' ? `U-Net, c = ${c.channels}` : `MLP ${c.hidden.join('-')}`}, ${c.classes} classes, ${ckpt.step} training steps`;
  state.model = name;
  state.ready = true;
}

async function generate(): Promise<void> {
  if (!model || !config || state.generating) return;
  state.generating = true;
  try {
    const side = Math.round(Math.sqrt(config.dim));
    const label = Number($<HTMLSelectElement>('digit').value);
    const w = Number($<HTMLInputElement>('guidance').value);
    const steps = Math.max(1, Math.min(500, Number($<HTMLInputElement>('steps').value)));
    const field = F.guidedField(model, label, w);
    let x = T.keep(T.randn([1, config.dim], { generator: new T.Generator(Number($<HTMLInputElement>('seed').value)) }));
    const strip = $<HTMLCanvasElement>('strip');
    strip.getContext('2d')!.clearRect(0, 0, strip.width, strip.height);
    const marks = [0, 0.25, 0.5, 0.75, 1];
    const start = performance.now();
    Object.assign(state, { step: 0, steps, label, pixels: [] });
    for (let i = 0; i <= steps; i++) {
      const t = i / steps;
      const pixels = await x.dataAsync(); // webgpu reads back only asynchronously; the CPU backends return at once
      draw($<HTMLCanvasElement>('digit-canvas'), pixels, side);
      $('t-caption').textContent = `x_t at t = ${t.toFixed(2)}`;
      marks.forEach((m, j) => Math.round(m * steps) === i && draw(strip, pixels, side, j * 116, 4, 112));
      if (i === steps) break;
      const next = A.noGrad(() => T.tidy(() => T.keep(T.add(x, T.mul(field(x, t), 1 / steps))))); // Euler: x += h·ũ(x, t)
      x.dispose();
      x = next;
      state.step = i + 1;
      await new Promise((r) => requestAnimationFrame(r)); // let the page draw
    }
    state.pixels = Array.from(await x.dataAsync());
    state.backend = T.getBackend().name;
    x.dispose();
    $('status').textContent = `Digit ${label}, w = ${w}: ${steps} Euler steps (NFE ${steps * field.evaluationsPerCall}) in ${((performance.now() - start) / 1000).toFixed(2)} s on ${T.getBackend().name}.`;
  } finally {
    state.generating = false;
  }
}

/** Starts a backend; webgpu's entry is imported only when asked for (it registers how T.ready starts it). */
async function useBackend(name: string): Promise<void> {
  if (name === 'webgpu') await import('@rill/tensor/webgpu');
  await T.ready({ backend: name as T.BackendChoice, threads: 1, require: true });
}

async function start(): Promise<void> {
  await useBackend('wasm');
  $<HTMLSelectElement>('backend').onchange = async (e) => {
    try {
      await useBackend((e.target as HTMLSelectElement).value);
      const bytes = lastBytes;
      if (bytes) await loadModel(bytes, state.model); // the weights move to the new backend
    } catch (err) {
      fail(err);
    }
  };
  $<HTMLInputElement>('guidance').oninput = () => ($('guidance-value').textContent = $<HTMLInputElement>('guidance').value);
  $('generate').onclick = () => generate().catch(fail);
  $<HTMLInputElement>('load').onchange = async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      lastBytes = new Uint8Array(await file.arrayBuffer());
      await loadModel(lastBytes, file.name);
    } catch (err) {
      fail(err);
    }
  };
  const response = await fetch('./mnist.rill');
  if (!response.ok) throw new Error(`the shipped model ./mnist.rill: HTTP ${response.status}`);
  lastBytes = new Uint8Array(await response.arrayBuffer());
  await loadModel(lastBytes, 'mnist.rill');
}

let lastBytes: Uint8Array | null = null;
start().catch(fail);
