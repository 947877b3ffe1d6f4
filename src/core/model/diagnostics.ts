// Diagnostics that ingest and analysis return instead of throwing: where (file, line or byte
// offset), a stable code, a severity and a message a person can act on.

import { detach } from './text-pool';

export type Severity = 'error' | 'warning' | 'info';

/** Stable diagnostic codes. Never renumber or reuse; tests and users match on them. */
export const DIAG = {
  /** A line that looks like an event but cannot be parsed. */
  badLine: 'VL1001',
  /** An event line whose fields do not match its event's known layout; kept as a generic event. */
  badFields: 'VL1002',
  /** A timestamp that is not a number, or too large to be exact. */
  badTimestamp: 'VL1003',
  /** A line that ends before the end of its event (truncated file). */
  truncatedLine: 'VL1004',
  /** Timestamps going backwards on one CPU. */
  timeBackwards: 'VL1005',
  /** The ring buffer lost events (`CPU:1 [123 EVENTS DROPPED]`). */
  eventsLost: 'VL1006',
  /** A model capacity was exceeded (e.g. too many distinct tasks). */
  capacity: 'VL1007',
  /** Further diagnostics were suppressed after the cap. */
  capped: 'VL1008',
  /** The content is not a trace format vCPU Lens reads (yet). */
  unsupportedFormat: 'VL1009',
  /** The file could not be read. */
  io: 'VL1010',
  /** Undecodable bytes (invalid UTF-8) were replaced. */
  encoding: 'VL1011',
  /** An integer clock's text claims a different CPU count than its events use. */
  cpuOutOfRange: 'VL1012',
  /** A trace-cmd .dat file is truncated or corrupt at a byte offset; what came before it is kept. */
  datDamaged: 'VL1013',
  /** Loading stopped at the memory cap; the events before it are kept. */
  memoryCap: 'VL1014',
  /** The caller cancelled the load; nothing is kept. */
  cancelled: 'VL1015',
  /** Lines that print no CPU (perf script without `[cpu]`): per-CPU views are off. Once per file. */
  cpuUnknown: 'VL1016',
  /**
   * A guest trace analysed alone (no host trace) records neither the periodic tick nor timer
   * expiries: nothing shows when its vCPUs were absent. Names the events to record.
   */
  guestOnlyNoTimers: 'VL1017',
} as const;

export type DiagCode = (typeof DIAG)[keyof typeof DIAG];

export interface Diagnostic {
  code: DiagCode;
  severity: Severity;
  message: string;
  /** 1-based line number in the source text, when the source is text. */
  line?: number;
  /** Byte offset in the (decompressed) source, when known. */
  offset?: number;
  /** The file or stream name, when known. */
  source?: string;
}

/** Collects diagnostics up to a cap, counting what it drops. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  private dropped = 0;
  readonly counts = { error: 0, warning: 0, info: 0 };

  constructor(
    readonly cap = 1000,
    readonly source?: string,
  ) {}

  add(d: Diagnostic): void {
    this.counts[d.severity]++;
    if (this.items.length < this.cap) {
      // Messages quote input lines: copy them so they do not pin the input chunk in memory.
      const own = { ...d, message: detach(d.message) };
      this.items.push(
        this.source !== undefined && d.source === undefined ? { ...own, source: this.source } : own,
      );
    } else {
      this.dropped++;
    }
  }

  /** Total number reported, including those dropped by the cap. */
  get total(): number {
    return this.items.length + this.dropped;
  }

  /** The diagnostics, with one closing entry saying how many were suppressed. */
  finish(): Diagnostic[] {
    if (this.dropped === 0) return this.items;
    return [
      ...this.items,
      {
        code: DIAG.capped,
        severity: 'info',
        message: `${this.dropped} more diagnostics suppressed (cap ${this.cap})`,
        ...(this.source !== undefined ? { source: this.source } : {}),
      },
    ];
  }
}
