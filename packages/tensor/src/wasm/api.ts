// The few WebAssembly JS-API types this package uses, declared here: it compiles without the DOM library, and its
// published types must not depend on one.
export type Bytes = ArrayBuffer | ArrayBufferView;

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

export type WasmModule = object;

interface WasmApi {
  validate(bytes: Bytes): boolean;
  compile(bytes: Bytes): Promise<WasmModule>;
  Module: (new (bytes: Bytes) => WasmModule) & { exports(module: WasmModule): { name: string; kind: string }[] };
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  LinkError: new (...args: unknown[]) => Error;
}

/** The engine's WebAssembly object, or undefined where there is none. */
export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
