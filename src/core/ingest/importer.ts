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
  /**
   * For a part of a file that starts after its beginning (parallel reading): what the importer
   * of the file's head learned from its header and first lines.
   */
  resume?: ResumeState;
  /**
   * Keep each event's 1-based line number (`Trace.eventLines`, 4 bytes per event): for editors
   * that put diagnostics and findings on the line of an event.
   */
  eventLines?: boolean;
  /**
   * Stop taking events once a trace holds this many bytes (events, tables, text; checked every
   * 65,536 events): the trace keeps what came before, with a `VL1014` error saying where it
   * stopped. Default: no cap.
   */
  memoryCapBytes?: number;
  /** The share of the cap this importer may use (a part of a file read in parts); default 1. */
  memoryShare?: number;
  /**
   * A trace-cmd .dat with a TSC2NSEC option (`trace-cmd record -C tsc2nsec`): keep its timestamps
   * in TSC ticks as recorded (clock unit `count`) instead of converting them to ns. For `dump`,
   * which prints them as trace-cmd report does: a guest's TIME_SHIFT applies to the ticks, before
   * the conversion, and cannot be applied exactly to ns. Everything else wants ns (the default).
   */
  recordedTicks?: boolean;
  /**
   * The rate (Hz) of a counting clock (`x86-tsc`, `counter`): a trace whose timestamps are counts
   * is converted to ns as it is read, as a .dat's TSC2NSEC is (ns = (ticks * mult) >> shift with
   * model/time.ts tickRate(tscHz)), so every consumer speaks ns (`ClockInfo.tscHz` records it).
   * Timestamps already in ns, and a .dat with TSC2NSEC, are left as they are; so is everything
   * when `recordedTicks` is set (dump prints what the file holds).
   */
  tscHz?: number;
  /**
   * This importer reads one part of a file whose parts are joined after: it leaves what only the
   * whole file can settle to the joiner (numeric task states, task-state.ts resolveRawStates).
   */
  partOfFile?: boolean;
  /**
   * false: the events whose payload is nothing but their printed text (generic events such as
   * `function`, syscalls, print markers, kvm_vcpu_wakeup) are counted, with their owner task, but
   * get no text (payload ids -1), so a .dat's print fmts are never evaluated for them (nor its
   * kallsyms read for `%ps`). For readers that print no event text and look into none (`info`).
   * A list: only those kinds of text-only events keep their text (analyze/pair.ts
   * analysisEventText: what an analysis reads). Default true.
   */
  eventText?: boolean | readonly TextOnlyKind[];
  /**
   * Count the events instead of keeping them (Trace.eventTally; `events` stays empty), for a
   * reader that wants only counts, time span, tasks and diagnostics (`info`). Every record is
   * still decoded as far as those need (tasks, states, the fields whose decoding can fail), so
   * they and the diagnostics are the same as a full read's, except that the events take none
   * of the memory cap (`memoryCapBytes`: only the tables can reach it). Honoured by the .dat
   * importer on the calling thread (io/read-trace-file.ts); elsewhere events are kept as usual.
   */
  countOnly?: boolean;
}

/**
 * The events whose payload is nothing but their printed text, by kind: `generic` (any event
 * without a decoder: hrtimer_start, kvm_write_tsc_offset, function...), `syscall` (sys_enter_* /
 * sys_exit_*), `print` (trace markers), `kvm_vcpu_wakeup`.
 */
export type TextOnlyKind = 'generic' | 'syscall' | 'print' | 'kvm_vcpu_wakeup';

/** What an importer must know to start reading in the middle of a file. */
export interface ResumeState {
  ftrace?: {
    flavour: 'trace-cmd-report' | 'ftrace-raw' | undefined;
    prefixWidth: number;
    latWidth: number;
    /** Votes for a latency-column width of 4, 5, 6 so far (see ftrace-text.ts). */
    latWidthVotes?: number[];
    /** The input that lines belonging to none (bad lines, buffer notes) are reported on. */
    firstStream: string | undefined;
  };
}

export interface TextImporter {
  feed(chunk: string): void;
  /** Flushes the last line and returns the traces (one unless trace-cmd printed several inputs). */
  end(): Trace[];
  /** What a reader of a later part of the same file needs, after the head was fed. */
  resumeState(): ResumeState;
  /** Lines seen so far (to number the diagnostics of a later part). */
  lines(): number;
  /** True once a trace reached `memoryCapBytes`: further input is ignored. */
  stopped(): boolean;
}
