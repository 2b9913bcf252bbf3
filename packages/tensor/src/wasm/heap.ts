// The wasm tier's memory: one WebAssembly.Memory holding every tensor, carved into blocks by a size-class free list.
import type { CpuMemory } from '../cpu/backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { ValueError } from '../errors.js';
import type { WasmMemory } from './api.js';

/** A tensor's storage on the wasm backend: where its block starts and how many bytes the block holds. */
export interface Block {
  readonly ptr: number;
  readonly bytes: number;
}

const PAGE = 65536;
/** Blocks start on 16 bytes (one v128) and hold whole vectors, so a kernel may read and write its last vector whole. */
const ALIGN = 16;
/** Addresses below this are never handed out: a kernel reads pointer 0 as "none" (e.g. no bias). */
const FIRST = 64;

/**
 * The block size for a request: whole vectors up to 4 KiB, then 8 sizes per power of two (at most 12.5 % waste),
 * so a block freed by one step is reused by the next step's tensor of a similar size.
 */
export function blockSize(bytes: number): number {
  const vectors = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (vectors <= 4096) return vectors;
  const step = 2 ** (Math.floor(Math.log2(vectors)) - 3);
  return Math.ceil(vectors / step) * step;
}

const ELEMENT: Record<DType, { bytes: number; View: Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor }> = {
  float32: { bytes: 4, View: Float32Array },
  float64: { bytes: 8, View: Float64Array },
  int32: { bytes: 4, View: Int32Array },
};

/**
 * A bump allocator with free lists per block size. Memory only grows (WebAssembly cannot shrink it); freed blocks
 * wait in their list for the next request of that size class. Growing a non-shared memory detaches every view of the
 * old buffer, so nothing here keeps a view: `view()` builds one on the current buffer each time. A shared memory's
 * old views stay valid (same bytes, the old length), which the tests check.
 */
export class WasmHeap implements CpuMemory {
  /** The WebAssembly.Memory the blocks are carved from. */
  readonly memory: WasmMemory;
  /** Whether `memory` is shared (its buffer a SharedArrayBuffer), so worker threads can use it. */
  readonly shared: boolean;
  #top = FIRST;
  #free = new Map<number, number[]>();
  /** Bytes in blocks handed out and not yet freed. */
  liveBytes = 0;

  constructor(memory: WasmMemory, shared: boolean) {
    this.memory = memory;
    this.shared = shared;
  }

  /** A block of at least `bytes` bytes, 16-aligned; contents arbitrary. */
  alloc(bytes: number): Block {
    const size = blockSize(bytes);
    const reused = this.#free.get(size)?.pop();
    this.liveBytes += size;
    if (reused !== undefined) return { ptr: reused, bytes: size };
    const ptr = this.#top;
    const end = ptr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(Math.max(pages, Math.ceil(have / PAGE / 4))); // grow by at least a quarter: few grows
      } catch {
        try {
          this.memory.grow(pages);
        } catch (e) {
          this.liveBytes -= size;
          throw new ValueError('wasm', `cannot grow the WebAssembly memory to ${end} bytes (${(e as Error).message})`);
        }
      }
    }
    this.#top = end;
    return { ptr, bytes: size };
  }

  /** Returns a block (a Block from alloc) to the free list of its size; freeing the same block twice is not detected. */
  free(storage: unknown): void {
    const { ptr, bytes } = storage as Block;
    const list = this.#free.get(bytes);
    if (list) list.push(ptr);
    else this.#free.set(bytes, [ptr]);
    this.liveBytes -= bytes;
  }

  allocate(dtype: DType, size: number): Block {
    return this.alloc(size * ELEMENT[dtype].bytes);
  }

  view(storage: unknown, dtype: DType, size: number): TypedArray {
    return new ELEMENT[dtype].View(this.memory.buffer as ArrayBuffer, (storage as Block).ptr, size);
  }

  fromArray(data: TypedArray): Block {
    const dtype: DType = data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32';
    const block = this.allocate(dtype, data.length);
    this.view(block, dtype, data.length).set(data);
    return block;
  }

  /** Bytes of memory the heap has taken from the WebAssembly.Memory so far (its high-water mark). */
  get reservedBytes(): number {
    return this.#top;
  }
}
