// Reads a trace-cmd .dat file from disk for the engine's .dat reader (core/ingest/trace-dat), which
// asks for metadata sections and then 1 MiB blocks per CPU into a reused buffer: far faster than
// one file-sized buffer, whose fresh pages are slow to touch, and memory stays flat.

import { closeSync, openSync, readSync } from 'node:fs';
import type { ImportOptions } from '../ingest/importer';
import { ByteSource, importTraceDat, memorySource } from '../ingest/trace-dat/index';
import { Damage } from '../ingest/trace-dat/bytes';
import { parseDatFile } from '../ingest/trace-dat/file';
import { DIAG } from '../model/diagnostics';
import { Kind, TASK_MASK } from '../model/event-kinds';
import { mergeByTime } from '../model/trace-parts';
import type { Trace } from '../model/trace';
import type { FreeBuffers } from '../model/event-store';
import { nodeDecompressors } from './decompress';

/**
 * Positional reads of an open file. A class, `length` a double from the start (a size from
 * stat is one): as a `{ length, read }` literal it turned the map that memory sources share
 * (bytes.ts memorySource) from a small integer length to a double one.
 */
class FileSource implements ByteSource {
  readonly length: number = NaN;
  constructor(
    private readonly fd: number,
    size: number,
  ) {
    this.length = size;
  }
  read(offset: number, length: number, into?: Uint8Array): Uint8Array {
    const n = Math.max(0, Math.min(length, this.length - offset));
    const b = into !== undefined && into.length >= n ? into : new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, b, got, n - got, offset + got);
      if (r === 0) break;
      got += r;
    }
    return b.subarray(0, got);
  }
}

export function fileSource(fd: number, size: number): ByteSource {
  return new FileSource(fd, size);
}

/**
 * Files up to this size are read whole, in one read, before decoding: a compressed file's chunks
 * read one positional read each (a header, then the data) cost ~600 reads for a 2 MB file, 15 ms.
 */
const WHOLE_READ_BYTES = 32 << 20;

/** All `size` bytes of the file in one buffer, or undefined when it is bigger or not that size now. */
function wholeFile(fd: number, size: number): ByteSource | undefined {
  if (size > WHOLE_READ_BYTES) return undefined;
  const all = fileSource(fd, size).read(0, size);
  return all.length === size ? memorySource(all) : undefined;
}

/** Imports the .dat at `path` (`size` bytes) on this thread. Throws only if it cannot be opened. */
export function readDatFile(
  path: string,
  size: number,
  opts: ImportOptions,
  cpuRange?: { from: number; to: number },
): Trace[] {
  const fd = openSync(path, 'r');
  try {
    // A worker reading some CPUs reads their pages only: read whole, each worker would read
    // every CPU's data again.
    const whole = cpuRange === undefined ? wholeFile(fd, size) : undefined;
    return importTraceDat(whole ?? fileSource(fd, size), {
      ...opts,
      decompressors: nodeDecompressors,
      ...(cpuRange !== undefined ? { cpuRange } : {}),
    });
  } finally {
    closeSync(fd);
  }
}

/** How to read a .dat on several threads: its CPU streams in groups, and its saved comms. */
export interface DatSplit {
  /** Contiguous CPU ranges (indices into the buffer's CPU list), in CPU order. */
  ranges: { from: number; to: number }[];
  /** Each range's share of the event data's bytes. */
  shares: number[];
  cmdlines: ReadonlyMap<number, string>;
}

/**
 * Splits a .dat's CPU streams into at most `parts` contiguous groups of about equal data, from
 * its headers (no event is read). Undefined when it cannot be split: damaged headers, several
 * buffers (instances), latency-format text, fewer than two CPUs with data.
 */
export function planDatSplit(path: string, size: number, parts: number): DatSplit | undefined {
  const fd = openSync(path, 'r');
  try {
    const f = parseDatFile(fileSource(fd, size), nodeDecompressors);
    if (f instanceof Damage || f.damage.length > 0) return undefined;
    if (f.buffers.length !== 1 || f.latencyText.length > 0) return undefined;
    const cpus = f.buffers[0]!.cpus;
    const total = cpus.reduce((n, c) => n + c.size, 0);
    if (cpus.filter((c) => c.size > 0).length < 2 || total === 0) return undefined;
    const ranges: { from: number; to: number }[] = [];
    const shares: number[] = [];
    let from = 0;
    let acc = 0;
    for (let i = 0; i < cpus.length; i++) {
      acc += cpus[i]!.size;
      const left = parts - ranges.length;
      // Close a group once it holds its share, leaving a CPU for each group still to come.
      if (left > 1 && acc >= total / parts && cpus.length - (i + 1) >= left - 1) {
        ranges.push({ from, to: i + 1 });
        shares.push(acc / total);
        from = i + 1;
        acc = 0;
      }
    }
    if (from < cpus.length) {
      ranges.push({ from, to: cpus.length });
      shares.push(acc / total);
    }
    if (ranges.length < 2) return undefined;
    return { ranges, shares, cmdlines: f.cmdlines() };
  } finally {
    closeSync(fd);
  }
}

/**
 * Puts the parts of a .dat read by CPU groups back together in timestamp order (ties to the
 * lower CPU), as one thread would have read it. One thing a part cannot know alone: an event's
 * owner comm, for a pid the saved cmdlines lack, is the first comm trace-cmd's sched plugin
 * printed for that pid before it (on any CPU), else `<...>`; it is worked out again here in the
 * merged order. When a part stopped at the memory cap, the merged trace ends where it did.
 */
export function mergeDatParts(
  parts: Trace[],
  cmdlines: ReadonlyMap<number, string>,
  diagnosticsCap: number,
  free?: FreeBuffers,
): Trace {
  const base = parts[0]!;
  const tasks = base.tasks;
  const learned = new Map<number, string>();
  /**
   * Per task id: 0 not looked at yet; 1 its pid's owner comm never changes (pid 0, or in the
   * cmdlines); 2 it can change; 3 it can, and learn has seen this task (a pid is learned once,
   * so later calls change nothing).
   */
  let seen = new Uint8Array(tasks.size);
  const stateOf = (task: number): number => {
    if (task >= seen.length) {
      const g = new Uint8Array(Math.max(tasks.size, seen.length * 2, task + 1));
      g.set(seen);
      seen = g;
    }
    let f = seen[task]!;
    if (f === 0) {
      const pid = tasks.pid(task);
      f = seen[task] = pid === 0 || cmdlines.has(pid) ? 1 : 2;
    }
    return f;
  };
  const learn = (task: number): void => {
    if (stateOf(task) !== 2) return;
    seen[task] = 3;
    const pid = tasks.pid(task);
    if (!learned.has(pid)) learned.set(pid, tasks.comm(task));
  };
  // Where each part stopped at the memory cap: no event after the earliest of them is kept.
  let stopAt: bigint | undefined;
  for (const p of parts) {
    if (!p.diagnostics.some((d) => d.code === DIAG.memoryCap) || p.events.length === 0) continue;
    const last = p.tsBase + BigInt(p.events.ts(p.events.length - 1));
    if (stopAt === undefined || last < stopAt) stopAt = last;
  }
  return mergeByTime(
    parts,
    diagnosticsCap,
    (task, kind, a0, a1) => {
      let owner = task;
      if (stateOf(task) !== 1) {
        const pid = tasks.pid(task);
        const comm = learned.get(pid) ?? '<...>';
        if (tasks.comm(task) !== comm) owner = tasks.intern(pid, comm);
      }
      // What the sched plugin remembers, after the owner was named (as the decoder does).
      if (kind === Kind.schedSwitch) {
        learn(a0 & TASK_MASK);
        learn(a1);
      } else if (kind === Kind.schedWakeup || kind === Kind.schedWakeupNew) learn(a0);
      return owner;
    },
    stopAt,
    free,
  );
}
