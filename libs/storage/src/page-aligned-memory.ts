// The ES libs this project compiles against leave WebAssembly out; this is the one part used.
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => { readonly buffer: ArrayBuffer | SharedArrayBuffer };
};

/** WebAssembly memory grows in pages of this size. */
const WASM_PAGE_BYTES = 64 * 1024;

/**
 * `bytes` of zeroed memory that starts on a page boundary, as direct I/O (O_DIRECT) needs for
 * the buffers it reads into and writes from. Node's own Buffers start 16 bytes past a page;
 * WebAssembly memory is mapped on pages of its own. `shared` makes it a SharedArrayBuffer, for
 * memory handed to another thread.
 */
export function pageAlignedMemory(bytes: number, shared = false): ArrayBufferLike {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared }).buffer;
}
