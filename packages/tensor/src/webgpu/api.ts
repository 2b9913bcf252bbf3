// The slice of the WebGPU API the webgpu backend uses, typed here: the compiler's ES2022 lib has no WebGPU types.

export interface GpuBufferLike {
  readonly size: number;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export interface GpuPipelineLike {
  getBindGroupLayout(index: number): unknown;
}

export interface GpuPassLike {
  setPipeline(p: GpuPipelineLike): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

export interface GpuEncoderLike {
  beginComputePass(): GpuPassLike;
  copyBufferToBuffer(src: GpuBufferLike, srcOffset: number, dst: GpuBufferLike, dstOffset: number, size: number): void;
  finish(): unknown;
}

export interface GpuDeviceLike {
  readonly limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number };
  readonly queue: {
    writeBuffer(buffer: GpuBufferLike, offset: number, data: ArrayBufferView): void;
    submit(commands: unknown[]): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  createBuffer(d: { size: number; usage: number }): GpuBufferLike;
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): GpuPipelineLike;
  createBindGroup(d: { layout: unknown; entries: { binding: number; resource: { buffer: GpuBufferLike } }[] }): unknown;
  createCommandEncoder(): GpuEncoderLike;
  addEventListener(type: 'uncapturederror', listener: (e: { error: { message: string } }) => void): void;
  readonly lost: Promise<{ message: string; reason?: string }>;
  destroy(): void;
}

export interface GpuAdapterLike {
  readonly limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
  readonly info?: { vendor?: string; architecture?: string; description?: string; device?: string };
  requestDevice(d?: { requiredLimits?: Record<string, number> }): Promise<GpuDeviceLike>;
}

export interface NavigatorGpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<GpuAdapterLike | null>;
}

/** GPUBufferUsage and GPUMapMode flags (the spec's values; the globals exist only where WebGPU does). */
export const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, STORAGE: 128 } as const;
export const MAP_READ = 1;
