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

  /**
   * A block of at least `bytes` bytes, 16-aligned; contents arbitrary. From its size class's free list, else from the
   * top (growing the memory); when the memory can grow no more, from the free blocks merged (reclaim).
   */
  alloc(bytes: number): Block {
    const size = blockSize(bytes);
    const reused = this.#free.get(size)?.pop();
    if (reused !== undefined) {
      this.liveBytes += size;
      return { ptr: reused, bytes: size };
    }
    const ptr = this.#bump(size) ?? this.#reclaim(size);
    if (ptr === null) throw new ValueError('wasm', `cannot grow the WebAssembly memory to ${this.#top + size} bytes (its maximum is ${this.#maximum} bytes, and the free blocks merged hold no run of ${size})`);
    this.liveBytes += size;
    return { ptr, bytes: size };
  }

  #maximum = 0;

  /** `size` bytes at the top, growing the memory as needed; null when it cannot grow that far. */
  #bump(size: number): number | null {
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
        } catch {
          this.#maximum = this.memory.buffer.byteLength;
          return null;
        }
      }
    }
    this.#top = end;
    return ptr;
  }

  /**
   * The memory is full: the free blocks, whatever their size classes, are sorted by address and neighbours merged (a
   * run of a batch-16 step's blocks can serve a batch-128 step's tensor). A run reaching the top gives its bytes back
   * to the top; the first run of at least `size` bytes gives its start, its rest going back to the lists in blocks of
   * size classes. Null when no run, nor the top, has room.
   */
  #reclaim(size: number): number | null {
    const blocks = [...this.#free].flatMap(([bytes, ptrs]) => ptrs.map((ptr) => ({ ptr, bytes })));
    if (blocks.length === 0) return null;
    blocks.sort((a, b) => a.ptr - b.ptr);
    this.#free.clear();
    const runs: { ptr: number; bytes: number }[] = [];
    for (const b of blocks) {
      const last = runs.at(-1);
      if (last && last.ptr + last.bytes === b.ptr) last.bytes += b.bytes;
      else runs.push({ ...b });
    }
    const top = runs.at(-1)!;
    if (top.ptr + top.bytes === this.#top) {
      this.#top = top.ptr;
      runs.pop();
    }
    const fit = runs.findIndex((r) => r.bytes >= size);
    let ptr: number | null = null;
    if (fit >= 0) {
      ptr = runs[fit].ptr;
      runs[fit] = { ptr: ptr + size, bytes: runs[fit].bytes - size };
    }
    for (const r of runs) this.#carve(r.ptr, r.bytes);
    return ptr ?? this.#bump(size);
  }

  /** Puts bytes [ptr, ptr + bytes) back on the free lists as blocks of size classes, largest first. */
  #carve(ptr: number, bytes: number): void {
    while (bytes >= ALIGN) {
      const step = bytes <= 4096 ? ALIGN : 2 ** (Math.floor(Math.log2(bytes)) - 3);
      const size = Math.floor(bytes / step) * step; // a size class (blockSize(size) === size)
      this.free({ ptr, bytes: size });
      this.liveBytes += size; // free() counts it out; it was never counted in
      [ptr, bytes] = [ptr + size, bytes - size];
    }
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

  /** Whether `data` views this memory's current buffer (which growing a non-shared memory would detach). */
  holds(data: TypedArray): boolean {
    return data.buffer === this.memory.buffer;
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
