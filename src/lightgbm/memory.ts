import { WASM_POINTER_BYTES } from "./constants.js";
import type { LightGBMModule, Pointer } from "./module.js";

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export interface HeapViews {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  HEAPF64: Float64Array;
}

const viewsByModule = new WeakMap<LightGBMModule, HeapViews>();

/**
 * Views of the wasm memory as it is now. The memory is shared with LightGBM's worker threads;
 * when one of them grows it, the module's own HEAP* views still cover the old, smaller buffer
 * (Emscripten refreshes them only on its own next access), so views are rebuilt here whenever
 * the memory's buffer is not the one they were made for.
 */
export function heapViews(module: LightGBMModule): HeapViews {
  const buffer = module.wasmMemory.buffer;
  let views = viewsByModule.get(module);
  if (views === undefined || views.HEAPU8.buffer !== buffer) {
    views = {
      HEAPU8: new Uint8Array(buffer),
      HEAP32: new Int32Array(buffer),
      HEAPU32: new Uint32Array(buffer),
      HEAPF64: new Float64Array(buffer),
    };
    viewsByModule.set(module, views);
  }
  return views;
}

/** Reads the NUL-terminated UTF-8 string at `pointer`. */
export function readCString(module: LightGBMModule, pointer: Pointer): string {
  const heap = heapViews(module).HEAPU8;
  const start = pointer >>> 0;
  let end = start;
  while (heap[end] !== 0) end += 1;
  // TextDecoder refuses views of shared memory, hence the copy (slice).
  return textDecoder.decode(heap.slice(start, end));
}

/**
 * Native allocations that live for one C API call sequence. Every buffer handed out is freed
 * by `freeAll()`, which callers run in `finally`, so a thrown LightGBMError leaks nothing.
 * Heap views come from heapViews() on every access because memory growth replaces them.
 */
export class NativeScope {
  private readonly pointers: Pointer[] = [];

  constructor(readonly module: LightGBMModule) {}

  allocate(bytes: number): Pointer {
    // malloc(0) may return 0; one byte keeps "0 means out of memory" unambiguous.
    const pointer = this.module._malloc(Math.max(bytes, 1)) >>> 0;
    if (pointer === 0) throw new RangeError(`LightGBM wasm heap exhausted allocating ${bytes} bytes`);
    this.pointers.push(pointer);
    return pointer;
  }

  /** A zeroed out-parameter slot big enough for an int32, a pointer or an int64. */
  allocateSlot(): Pointer {
    const pointer = this.allocate(8);
    heapViews(this.module).HEAPU8.fill(0, pointer, pointer + 8);
    return pointer;
  }

  string(text: string): Pointer {
    const bytes = textEncoder.encode(text);
    const pointer = this.allocate(bytes.length + 1);
    heapViews(this.module).HEAPU8.set(bytes, pointer);
    heapViews(this.module).HEAPU8[pointer + bytes.length] = 0;
    return pointer;
  }

  /** Copies a typed array into the wasm heap, keeping its element type. */
  copy(values: Float32Array | Float64Array | Int32Array): Pointer {
    const pointer = this.allocate(values.byteLength);
    heapViews(this.module).HEAPU8.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), pointer);
    return pointer;
  }

  freeAll(): void {
    for (const pointer of this.pointers.splice(0)) this.module._free(pointer);
  }
}

/** Runs `body` with a fresh scope and frees its allocations afterwards, also on error. */
export function withNativeScope<T>(module: LightGBMModule, body: (scope: NativeScope) => T): T {
  const scope = new NativeScope(module);
  try {
    return body(scope);
  } finally {
    scope.freeAll();
  }
}

export function readInt32(module: LightGBMModule, pointer: Pointer): number {
  return heapViews(module).HEAP32[(pointer >>> 0) / 4] as number;
}

export function readPointer(module: LightGBMModule, pointer: Pointer): Pointer {
  return heapViews(module).HEAPU32[(pointer >>> 0) / WASM_POINTER_BYTES] as number;
}

export function writePointer(module: LightGBMModule, pointer: Pointer, value: Pointer): void {
  heapViews(module).HEAPU32[(pointer >>> 0) / WASM_POINTER_BYTES] = value >>> 0;
}

/** Reads an int64_t out-parameter. Lengths here stay far below 2^53, so a number is exact. */
export function readInt64(module: LightGBMModule, pointer: Pointer): number {
  const address = pointer >>> 0;
  const low = heapViews(module).HEAPU32[address / 4] as number;
  const high = heapViews(module).HEAP32[address / 4 + 1] as number;
  return high * 0x1_0000_0000 + low;
}

/** Copies `length` doubles starting at `pointer` out of the wasm heap. */
export function readFloat64Array(module: LightGBMModule, pointer: Pointer, length: number): Float64Array {
  const start = (pointer >>> 0) / 8;
  return heapViews(module).HEAPF64.slice(start, start + length);
}
