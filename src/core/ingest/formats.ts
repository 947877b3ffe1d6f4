// The formats vCPU Lens reads, listed once (STYLE.md §10, after speedscope's import/index.ts):
// text sniffing and the importer it picks (detect.ts, index.ts), which formats the worker pool
// reads in parts (io/read-trace-file.ts, io/parallel-read.ts, io/parse-worker.ts), the model's
// format names (model/trace.ts TraceFormat) and the editor's language ids (package.json, checked
// by test/unit/package.test.ts; the extension's list is checked against this one when it is
// compiled) all come from here. A new text format is its importer's file plus one entry.

import { createFtraceTextImporter, isFtraceText } from './ftrace-text';
import type { ImportOptions, TextImporter } from './importer';
import type { TraceFormat } from '../model/trace';
import { createPerfScriptImporter, isPerfScript } from './perf-script';

export interface TextFormat {
  /** What sniffing answers and `LoadResult.format` says for a file of this format. */
  readonly id: string;
  /** True when `head` (the first KiB of decoded text) is in this format; tried in list order. */
  readonly sniff: (head: string) => boolean;
  readonly importer: (opts: ImportOptions) => TextImporter;
  /**
   * Can be cut at line boundaries and read in parts on worker threads: a part's importer starts
   * from what the head's taught (`TextImporter.resumeState`) and gives the trace one thread would.
   */
  readonly resumable: boolean;
  /** The editor's language ids for files of this format (package.json `contributes.languages`). */
  readonly languageIds: readonly string[];
  /** The `Trace.format` values its traces carry: one per flavour the importer tells apart. */
  readonly traceFormats: readonly string[];
}

/** The text formats, in sniffing order: perf first, its `system:event:` names are the sharper signal. */
export const TEXT_FORMATS = [
  {
    id: 'perf-script',
    sniff: isPerfScript,
    importer: createPerfScriptImporter,
    resumable: true,
    languageIds: ['perf-script'],
    traceFormats: ['perf-script'],
  },
  {
    id: 'ftrace-text',
    sniff: isFtraceText,
    importer: createFtraceTextImporter,
    resumable: true,
    languageIds: ['trace-cmd-report', 'ftrace-text'],
    traceFormats: ['trace-cmd-report', 'ftrace-raw'],
  },
] as const satisfies readonly TextFormat[];

/**
 * The binary format: trace-cmd's `.dat`, told by its magic (detect.ts sniffBytes) and read by
 * positional reads in io/dat-source.ts, not streamed as text. It has no language: the editor
 * opens it through the server, not as a document.
 */
export const DAT_FORMAT = 'trace-cmd-dat';

export type TextFormatId = (typeof TEXT_FORMATS)[number]['id'];
/** What a file is: a text format, a `.dat`, or none vCPU Lens reads. */
export type FileFormatId = TextFormatId | typeof DAT_FORMAT | 'unknown';
/** `Trace.format`: a text format's flavour, or the `.dat` (model/trace.ts names them). */
export type TraceFormatId = TraceFormat;
type RegisteredTraceFormat =
  (typeof TEXT_FORMATS)[number]['traceFormats'][number] | typeof DAT_FORMAT;
/** Compiles only when the model's flavours and the registry's are the same set. */
export const REGISTRY_MATCHES_MODEL: [
  Exclude<TraceFormat, RegisteredTraceFormat>,
  Exclude<RegisteredTraceFormat, TraceFormat>,
] extends [never, never]
  ? true
  : never = true;
/** The editor's language ids for trace text. */
export type TraceLanguageId = (typeof TEXT_FORMATS)[number]['languageIds'][number];

/** Every language id of every text format, in list order. */
export const TRACE_LANGUAGE_IDS: readonly TraceLanguageId[] = TEXT_FORMATS.flatMap(
  (f) => f.languageIds,
);

export function textFormat(id: TextFormatId): TextFormat {
  const f = TEXT_FORMATS.find((x) => x.id === id);
  if (f === undefined) throw new RangeError(`no text format '${id}'`);
  return f;
}

/** Which text format `head` is in, or 'unknown'. */
export function sniffTextFormat(head: string): TextFormatId | 'unknown' {
  for (const f of TEXT_FORMATS) if (f.sniff(head)) return f.id;
  return 'unknown';
}
