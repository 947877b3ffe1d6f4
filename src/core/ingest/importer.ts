// The contract every text importer follows: fed decoded text in chunks of any size, it returns one
// Trace per machine/instance it found, never throws on bad input, and reports per-line diagnostics.

import type { Trace } from '../model/trace';

export interface ImportOptions {
  /** The file name, used in diagnostics and as the trace name. */
  name?: string;
  /** At most this many diagnostics per trace are kept (the rest are counted). Default 1000. */
  diagnosticsCap?: number;
  /** The trace clock's name when the user knows it (text formats do not record it). */
  clock?: string;
}

export interface TextImporter {
  feed(chunk: string): void;
  /** Flushes the last line and returns the traces (one unless trace-cmd printed several inputs). */
  end(): Trace[];
}
