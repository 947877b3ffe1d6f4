// Reads a trace file from disk as a stream: gzip is decompressed on the fly, text is decoded as
// UTF-8 in chunks and fed to the importer the content sniffed for. The only Node I/O in core.

import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { DIAG, Diagnostic } from '../model/diagnostics';
import type { Trace } from '../model/trace';
import {
  createTextImporter,
  ImportOptions,
  sniffBytes,
  sniffText,
  TextImporter,
} from '../ingest/index';

export interface LoadResult {
  path: string;
  /** What the content was: a text format, or the reason nothing was read. */
  format: 'ftrace-text' | 'perf-script' | 'trace-cmd-dat' | 'unknown';
  compression: 'none' | 'gzip';
  traces: Trace[];
  /** File-level problems (unreadable, unsupported); per-line ones live on each trace. */
  diagnostics: Diagnostic[];
  /** Bytes on disk and bytes after decompression. */
  fileBytes: number;
  textBytes: number;
}

export interface ReadOptions extends ImportOptions {
  /** Read size; 1 MiB by default (decoded and parsed in 64 KiB pieces). */
  chunkBytes?: number;
}

const SNIFF_BYTES = 64 * 1024;
/** Bytes per read: big enough that the next read overlaps the parsing of this one. */
const READ_BYTES = 1 << 20;
/** Bytes per decoded string handed to the importer. */
const DECODE_BYTES = 1 << 16;

/** Loads a trace file. Never throws for bad content or a missing file: look at `diagnostics`. */
export async function readTraceFile(path: string, opts: ReadOptions = {}): Promise<LoadResult> {
  const name = opts.name ?? basename(path);
  const result: LoadResult = {
    path,
    format: 'unknown',
    compression: 'none',
    traces: [],
    diagnostics: [],
    fileBytes: 0,
    textBytes: 0,
  };
  try {
    result.fileBytes = (await stat(path)).size;
  } catch (e) {
    result.diagnostics.push({
      code: DIAG.io,
      severity: 'error',
      source: path,
      message: `cannot read: ${errText(e)}`,
    });
    return result;
  }
  let input: Readable = createReadStream(path, { highWaterMark: opts.chunkBytes ?? READ_BYTES });
  let importer: TextImporter | undefined;
  try {
    const first = await firstChunk(createReadStream(path, { start: 0, end: 15 }));
    const kind = sniffBytes(first);
    if (kind === 'trace-cmd-dat') {
      result.format = 'trace-cmd-dat';
      result.diagnostics.push({
        code: DIAG.unsupportedFormat,
        severity: 'error',
        source: path,
        message:
          'trace-cmd .dat files are not read yet: run `trace-cmd report -i FILE > FILE.txt` and open the text',
      });
      input.destroy();
      return result;
    }
    if (kind === 'zstd') {
      result.diagnostics.push({
        code: DIAG.unsupportedFormat,
        severity: 'error',
        source: path,
        message: 'zstd-compressed text is not read: decompress it (zstd -d) or use gzip',
      });
      input.destroy();
      return result;
    }
    if (kind === 'gzip') {
      result.compression = 'gzip';
      // zlib's smallest output chunk is 64 bytes.
      input = input.pipe(createGunzip({ chunkSize: Math.max(64, opts.chunkBytes ?? READ_BYTES) }));
    }
    const decoder = new Utf8Chunks();
    let head = '';
    for await (const buf of input as AsyncIterable<Buffer>) {
      result.textBytes += buf.length;
      // Read big, decode small: V8 builds strings of 256 KiB and more far more slowly.
      for (let at = 0; at < buf.length; at += DECODE_BYTES) {
        const text = decoder.decode(buf.subarray(at, Math.min(buf.length, at + DECODE_BYTES)));
        if (importer === undefined) {
          head += text;
          if (head.length < SNIFF_BYTES) continue;
          importer = startImporter(head, name, opts, result);
          if (importer === undefined) {
            input.destroy();
            return result;
          }
          importer.feed(head);
          head = '';
        } else {
          importer.feed(text);
        }
      }
    }
    const tail = decoder.end();
    if (importer === undefined) {
      importer = startImporter(head + tail, name, opts, result);
      if (importer === undefined) return result;
      importer.feed(head + tail);
    } else if (tail.length > 0) {
      importer.feed(tail);
    }
    result.traces = importer.end();
    if (decoder.replaced) {
      result.diagnostics.push({
        code: DIAG.encoding,
        severity: 'warning',
        source: path,
        message: 'the file has bytes that are not UTF-8; they were replaced by U+FFFD',
      });
    }
  } catch (e) {
    input.destroy();
    // Keep everything read before the damage (a truncated or corrupt gzip stream).
    if (importer !== undefined) result.traces = importer.end();
    result.diagnostics.push({
      code: DIAG.io,
      severity: 'error',
      source: path,
      message: `read failed after ${result.textBytes} bytes: ${errText(e)}`,
      offset: result.textBytes,
    });
  }
  return result;
}

function startImporter(
  head: string,
  name: string,
  opts: ReadOptions,
  result: LoadResult,
): TextImporter | undefined {
  const f = sniffText(head.slice(0, SNIFF_BYTES));
  if (f === 'unknown') {
    result.diagnostics.push({
      code: DIAG.unsupportedFormat,
      severity: 'error',
      source: result.path,
      message:
        head.trim().length === 0
          ? 'the file is empty'
          : 'not a trace format vCPU Lens reads (trace-cmd report, tracefs trace, perf script)',
    });
    return undefined;
  }
  result.format = f;
  return createTextImporter(f, { ...opts, name });
}

async function firstChunk(s: Readable): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const b of s as AsyncIterable<Buffer>) parts.push(b);
  return Buffer.concat(parts);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * UTF-8 decoding of a byte stream in chunks. Trace text is nearly all ASCII: such chunks are
 * decoded with a plain byte copy (several times faster than TextDecoder), others by TextDecoder
 * after holding back an incomplete trailing sequence for the next chunk.
 */
class Utf8Chunks {
  private readonly td = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private carry: Buffer | undefined;
  private first = true;
  /** Set once invalid UTF-8 was replaced by U+FFFD. */
  replaced = false;

  decode(chunk: Buffer): string {
    let buf = this.carry !== undefined ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    if (this.first) {
      this.first = false;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
        buf = buf.subarray(3);
    }
    if (isAscii(buf)) return buf.toString('latin1');
    const cut = completeUtf8Length(buf);
    if (cut < buf.length) this.carry = Buffer.from(buf.subarray(cut));
    return this.checked(this.td.decode(buf.subarray(0, cut)));
  }

  end(): string {
    const rest = this.carry;
    this.carry = undefined;
    return rest !== undefined ? this.checked(this.td.decode(rest)) : '';
  }

  private checked(s: string): string {
    if (!this.replaced && s.includes('\uFFFD')) this.replaced = true;
    return s;
  }
}

/** Length of the longest prefix of `b` that does not end inside a UTF-8 sequence. */
function completeUtf8Length(b: Buffer): number {
  const n = b.length;
  // Look back at most 3 bytes for the lead byte of the last sequence.
  for (let back = 1; back <= Math.min(4, n); back++) {
    const c = b[n - back]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte
    if (c < 0x80) return n; // ASCII: complete
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return back >= need ? n : n - back;
  }
  return n;
}
