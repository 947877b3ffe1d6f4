// What the language server's parts share: its connection, documents and their states, caches,
// settings and the count of work in flight, plus each part's operations, bound once in
// server.ts. The parts (documents, disk, pairing, publish, handlers) get this one object and
// never import each other, so they can call across without import cycles.

import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection, Diagnostic, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { PairOptions } from '../core/analyze/pair';
import type { PairAnalysis } from '../core/analyze/types';
import type { LoadResult } from '../core/io/read-trace-file';
import type { Diagnostic as CoreDiagnostic } from '../core/model/diagnostics';
import type { TimelineIndex } from '../core/view/lod';
import type { ServerSettings, TraceRole } from '../protocol/lsp-ext';
import type { ParsedDoc } from './trace-doc';

export interface DocState {
  /** The document's version; null for a trace read from disk that is not open as a document. */
  version: number | null;
  parsed: ParsedDoc | undefined;
  /** What analyses are cached by: the uri and its version, or for a file read from disk its mtime. */
  key: string;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the server was told of this version (didOpen / didChange), for the timings it logs. */
  receivedAt: number;
  /** 'text': parsed from the synced text; 'disk': read from its file (big and unmodified). */
  source: 'text' | 'disk';
  /** A 'disk' document's text, read when a hover or definition first needs a line. */
  lines?: TextDocument | undefined;
  /** A 'disk' document whose read was cancelled: nothing is shown until it is asked for again. */
  cancelled?: boolean;
  /** A 'disk' document's file-level problems (unreadable, memory cap, not UTF-8). */
  fileDiagnostics?: CoreDiagnostic[];
  /** Parses scheduled or running, and who waits for them to end (`parsedOrNot`). */
  running: number;
  waiters: (() => void)[];
}

/** A file read from disk with the core reader (shared by every caller while it is read). */
export interface DiskRead {
  mtimeMs: number;
  result: Promise<LoadResult | Cancelled>;
}

/** A read the user cancelled: how far it had got (bytes of the file) when it stopped. */
export interface Cancelled {
  cancelled: { doneBytes: number; totalBytes: number };
}

/** A trace that is the pair of an open document: open too, or read from disk. */
export interface PairSide {
  key: string;
  uri: string;
  trace: ParsedDoc['trace'];
  role: TraceRole;
  /** The open document's timelines (built when it was parsed), for its analysis to reuse. */
  timelines?: ParsedDoc['timelines'];
}

/** A document's analysis with its pair, and which of the two is the host. */
export interface PairedAnalysis {
  analysis: PairAnalysis;
  key: string;
  /** Whether the advice step has run (its what-if; the advice itself may still be absent). */
  advised: boolean;
  host: ParsedDoc['trace'];
  hostUri: string;
  guestUri: string;
  /**
   * A guest trace alone (no host trace): `host` is modelled from the guest's inferred vCPU
   * absences, `hostUri` is the guest's own; nothing maps into the modelled host's "lines".
   */
  guestOnly?: true;
}

/** The operations of the server's parts, each defined in one file and bound in server.ts. */
export interface ServerOps {
  /** documents.ts: (re)parse a document after `delay` ms, replacing a parse scheduled before. */
  schedule(uri: string, delay: number): void;
  /** documents.ts: resolves when the document has no parse scheduled or running. */
  parsedOrNot(uri: string): Promise<void>;
  /** documents.ts: a big trace read from its file, then published. */
  readAndPublish(uri: string): Promise<void>;
  /** documents.ts: one line of a document (its synced text, or its file). */
  lineText(uri: string, line: number): string | undefined;
  /** disk.ts: a trace file read once per mtime, with progress the user can cancel; watched. */
  readFromDisk(file: string): Promise<{ result: LoadResult; mtimeMs: number } | Cancelled>;
  /** pairing.ts: the other machine's trace for `uri`. */
  pairOf(uri: string): Promise<PairSide | undefined>;
  /** pairing.ts: a trace that is no open document, read from its file. */
  loadFromDisk(uri: string): Promise<PairSide | undefined>;
  /** pairing.ts: the settings as the pipeline's options, or what is wrong with them. */
  pairOptions(): PairOptions | string;
  /**
   * pairing.ts: the analysis of `uri` with its pair, cached per pair of versions; its advice only
   * with `advice` (computed on the first such request, then cached with the analysis).
   */
  analysisFor(uri: string, advice?: 'advice'): Promise<PairedAnalysis | undefined>;
  /**
   * pairing.ts: the timeline index of `uri` and its pair, or why there is none; with `advice` its
   * meta holds the advice, else it may say `advicePending` (the first paint does not wait for it).
   */
  timelineFor(uri: string, advice?: 'advice'): Promise<TimelineIndex | string>;
  /**
   * pairing.ts: keeps a timeline this server built (as first built, before any advice) in the
   * timeline cache for the next session; nothing without a cache folder or for open documents.
   */
  saveTimeline(uri: string, index: TimelineIndex): Promise<void>;
  /** publish.ts: the document's diagnostics (file, parse, analysis) sent to the client. */
  publish(uri: string): Promise<void>;
}

/** The shared state and the bound operations: what every part of the server gets. */
export interface Server extends ServerOps {
  readonly connection: Connection;
  readonly documents: TextDocuments<TextDocument>;
  readonly states: Map<string, DocState>;
  /** Explicit pairs, both directions. */
  readonly pairs: Map<string, string>;
  /** Files read from disk (pairs, big documents, .dat), by path; watched while cached. */
  readonly diskCache: Map<string, DiskRead>;
  readonly watchers: Map<string, FSWatcher>;
  /**
   * A pair's analysis, cached per pair of versions; `advised` once its advice is in (the what-if
   * runs on the first request that shows it, not for diagnostics or hovers).
   */
  readonly analyses: Map<string, { analysis: PairAnalysis; advised: boolean } | undefined>;
  /** The diagnostics last published per document (Show in Timeline reads their `data`). */
  readonly published: Map<string, Diagnostic[]>;
  /** The timeline of a pair of versions: the engine's model and level-of-detail index. */
  readonly indexes: Map<string, TimelineIndex>;
  settings: ServerSettings;
  /** Where timelines are kept between sessions (the extension's global storage); none: not kept. */
  timelineCacheDir: string | undefined;
  log(s: string): void;
  /** Counts `f` as work in flight until it settles (`idle()` waits for none). */
  busy<T>(f: () => Promise<T>): Promise<T>;
  /** One more piece of work in flight; `leave` ends it. */
  enter(): void;
  leave(): void;
  /** Resolves when no work is in flight. */
  idle(): Promise<void>;
}

/** The file name of a uri, for logs and titles. */
export function nameOf(uri: string): string {
  try {
    return path.basename(fileURLToPath(uri));
  } catch {
    // Not a file (a simulated trace, `vcpu-lens-sim:/simulated: small spin · host.txt`): its
    // name as people read it, not percent-encoded.
    const last = uri.replace(/^.*\//, '');
    try {
      return decodeURIComponent(last);
    } catch {
      return last;
    }
  }
}

/** The path of a `file:` uri; undefined for any other scheme. */
export function filePath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

/** The shared state of a new server, its operations not bound yet. */
export function sharedState(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
  settings: ServerSettings,
): Omit<Server, keyof ServerOps> {
  let pending = 0;
  let waiters: (() => void)[] = [];
  const leave = (): void => {
    if (--pending > 0) return;
    const w = waiters;
    waiters = [];
    for (const r of w) r();
  };
  return {
    connection,
    documents,
    states: new Map(),
    pairs: new Map(),
    diskCache: new Map(),
    watchers: new Map(),
    analyses: new Map(),
    published: new Map(),
    indexes: new Map(),
    settings,
    timelineCacheDir: undefined,
    log: (s) => connection.console.log(s),
    enter: () => void pending++,
    leave,
    busy: async (f) => {
      pending++;
      try {
        return await f();
      } finally {
        leave();
      }
    },
    idle: () => (pending === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}
