// zstd for Node without its own (< 22.15): libzstd compiled to WebAssembly, the zstd.wasm that npm's
// @bokuweb/zstd-wasm 0.0.27 ships (MIT glue, BSD-3-Clause libzstd), with our own synchronous glue so
// the .dat reader can stay synchronous. A real 2 MB .dat's chunks take ~2.5x less CPU than with our
// JavaScript decoder (trace-dat/zstd.ts), which stays the fallback and the tests' reference.
//
// The bundle loads dist/zstd.wasm (esbuild.mjs copies it there); from the sources, the package's.
// Bounded like the JavaScript decoder: libzstd's one-shot ZSTD_decompress writes at most the
// capacity it is given (the size the chunk's header claims) and fails with dstSize_tooSmall past it.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ZstdError } from '../ingest/trace-dat/zstd';

/** What we use of the WebAssembly API (not in the ES and Node type libraries this build has). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The exports of that zstd.wasm, minified by its emscripten build: the names are its zstd.js's
 * (`wasmExports['r']` is `_ZSTD_decompress`, ...), so the version is pinned in package.json.
 */
interface ZstdExports {
  /** memory */
  f: WasmMemory;
  /** __wasm_call_ctors */
  g(): void;
  /** ZSTD_isError(code) */
  h(code: number): number;
  /** ZSTD_createDCtx() */
  n(): number;
  /** ZSTD_decompress_usingDict(dctx, dst, dstCapacity, src, srcSize, dict, dictSize) */
  q(
    dctx: number,
    dst: number,
    cap: number,
    src: number,
    size: number,
    dict: number,
    dictSize: number,
  ): number;
  /** malloc(size) */
  s(size: number): number;
  /** free(ptr) */
  t(ptr: number): void;
}

/** libzstd's error codes (lib/zstd_errors.h) that a corrupt or oversized frame gives. */
const ERRORS: Record<number, string> = {
  1: 'generic error',
  10: 'not a zstd frame (unknown prefix)',
  12: 'unsupported zstd version',
  14: 'unsupported frame parameter',
  16: 'frame requires too much memory for decoding',
  20: 'corrupted block detected',
  22: 'restored data does not match checksum',
  24: 'corrupt literals header',
  32: 'frame needs a dictionary',
  64: 'allocation error (out of memory)',
  70: 'frames make more bytes than the claimed size',
  72: 'input ends inside a frame',
};

/** An instance that has grown past this (after a big section) is dropped, not kept for the process. */
const KEEP_MEMORY_BYTES = 64 << 20;

let module: object | undefined;
let live: { x: ZstdExports; dctx: number } | undefined;

function wasmBytes(): Uint8Array {
  // The bundle (dist/cli.js, dist/server.js, dist/parse-worker.js) sits next to its copy.
  const shipped = path.join(__dirname, 'zstd.wasm');
  try {
    return readFileSync(shipped);
  } catch {
    // From the sources (tests, their bundled workers, which keep the source folder's __dirname).
    const pkg = createRequire(path.join(__dirname, 'index.js')).resolve('@bokuweb/zstd-wasm');
    return readFileSync(path.join(path.dirname(pkg), 'zstd.wasm'));
  }
}

/**
 * V8 runs new wasm code from its baseline compiler (Liftoff) and recompiles hot functions with
 * TurboFan. libzstd's decoder is a few huge functions: recompiling them costs more CPU than a
 * 2 MB .dat's whole decoding (0.16 s of 0.3 s), and on a busy machine the first big section waits
 * on it. Liftoff code alone decodes ~2x slower than TurboFan's but still ~3x faster than our
 * JavaScript, so tier-up stays off. The flags are process-wide: they are set only in our own
 * processes (CLI, language server, their workers: the extension host never loads this file) and
 * only before the first zstd.wasm compile, when Node has no zstd of its own.
 */
function baselineWasmOnly(): void {
  const v8 = process.getBuiltinModule('node:v8');
  v8.setFlagsFromString('--no-wasm-tier-up');
  v8.setFlagsFromString('--no-wasm-dynamic-tiering');
}

let compiling: Promise<void> | undefined;

/**
 * Starts compiling zstd.wasm on V8's background threads, for a caller about to read zstd .dat
 * files that has other work to do first (loading its own code): the read then finds it compiled
 * (zstdWasmCompiled) instead of compiling it on its own thread (~12 ms). Nothing when Node has
 * zstd of its own, or it is compiled or being compiled; a failure is left for the first decode.
 */
export function compileZstdWasmAhead(): void {
  if (module !== undefined || compiling !== undefined || process.versions['zstd'] !== undefined)
    return;
  try {
    baselineWasmOnly();
    compiling = wasm.compile(wasmBytes()).then(
      (m) => void (module ??= m),
      () => undefined,
    );
  } catch {
    // zstd.wasm missing: the first decode says so, or falls back.
  }
}

/** Resolves once the compile compileZstdWasmAhead started is over (at once when none was). */
export function zstdWasmCompiled(): Promise<void> {
  return compiling ?? Promise.resolve();
}

function instance(): { x: ZstdExports; dctx: number } {
  if (live !== undefined) return live;
  if (module === undefined) {
    baselineWasmOnly();
    module = new wasm.Module(wasmBytes());
  }
  // The memory, once instantiated: the heap grows through it.
  const heap: { mem?: WasmMemory } = {};
  // Not a ZstdError: the instance is dropped (below) and the section reported as damaged.
  const fail = (what: string) => (): never => {
    throw new Error(`libzstd ${what}`);
  };
  const inst = new wasm.Instance(module, {
    a: {
      a: fail('exited'), // proc_exit
      b: () => undefined, // _emscripten_runtime_keepalive_clear
      c: fail('aborted'), // _abort_js
      d: () => 0, // _setitimer_js (timers: unused by decompression)
      // emscripten_resize_heap(bytes): grow to that many bytes, or say no (malloc returns 0).
      e: (bytes: number): number => {
        const mem = heap.mem!;
        const pages = Math.ceil((bytes - mem.buffer.byteLength) / 65536);
        try {
          if (pages > 0) mem.grow(pages);
          return 1;
        } catch {
          return 0;
        }
      },
    },
  });
  const x = inst.exports as unknown as ZstdExports;
  heap.mem = x.f;
  x.g();
  const dctx = x.n();
  if (dctx === 0) throw new ZstdError('zstd.wasm could not allocate its decoder');
  live = { x, dctx };
  return live;
}

/**
 * Decodes zstd frames into a buffer of `outSize` bytes with libzstd; returns the bytes decoded
 * (fewer when the frames end early), in `into` when given (a view of it: at least `outSize`
 * bytes, reused by the caller) or else in a new buffer. Throws ZstdError for corrupt data and
 * for output past `outSize`; libzstd verifies checksums where frames carry them.
 */
export function zstdDecompressWasm(
  input: Uint8Array,
  outSize: number,
  into?: Uint8Array,
): Uint8Array {
  const { x, dctx } = instance();
  const src = x.s(Math.max(input.length, 1));
  const dst = src === 0 ? 0 : x.s(Math.max(outSize, 1));
  try {
    if (dst === 0) throw new ZstdError(`no memory for a ${outSize}-byte section`);
    new Uint8Array(x.f.buffer, src, input.length).set(input);
    const r = x.q(dctx, dst, outSize, src, input.length, 0, 0);
    if (x.h(r) !== 0) {
      const code = -r; // size_t errors are -code, seen through wasm's i32 as negative
      throw new ZstdError(ERRORS[code] ?? `libzstd error ${code}`);
    }
    const n = r >>> 0;
    const out = into !== undefined && into.length >= n ? into.subarray(0, n) : new Uint8Array(n);
    out.set(new Uint8Array(x.f.buffer, dst, n));
    return out;
  } catch (e) {
    // A trap (a bug in the glue or libzstd) may leave its heap inconsistent: start afresh.
    if (!(e instanceof ZstdError)) {
      live = undefined;
      throw new ZstdError(`zstd.wasm failed (${e instanceof Error ? e.message : String(e)})`);
    }
    throw e;
  } finally {
    if (live?.x === x) {
      x.t(src);
      if (dst !== 0) x.t(dst);
      if (x.f.buffer.byteLength > KEEP_MEMORY_BYTES) live = undefined;
    }
  }
}
