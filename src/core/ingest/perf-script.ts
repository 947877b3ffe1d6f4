// `perf script` and `perf sched script` text (tools/perf/builtin-script.c, process_event): the
// comm right-aligned in 16 columns, then the tid (or pid/tid), the CPU, the time in seconds and
// the event's name, then the tracepoint's own print fmt (the kernel's key=value spelling):
//   `     migration/0    18 [000]  5079.325820:       sched:sched_waking: comm=perf pid=3444 prio=120 target_cpu=000`
//   ` kworker/u8:5-kv 30173 [000]  5079.340824: sched:sched_stat_runtime: comm=kworker/u8:5 pid=30173 runtime=52880 [ns]`
// Any column but the time and the name may be missing (`-F` picks them; perf before ~4.x printed
// tracepoints with no CPU), and samples of any event are lines too (`cycles:`, `cpu-clock:`,
// perhaps a period before the name). `perf record -g` adds each sample's callchain: one frame
// a line, tab-indented, then a blank line (print_sample_callchain):
//   `perf 28039 [000] 194010.024771: cycles: `
//   `	ffffffff8104f45a native_write_msr_safe ([kernel.kallsyms])`
// Frames are skipped: the model keeps scheduling, not stacks.

import { DIAG, DiagnosticSink } from '../model/diagnostics';
import { parseSplitTs } from '../model/time';
import { CPU_UNKNOWN, Trace, TraceBuilder } from '../model/trace';
import { decodeOrKeep, intIn, KEYED, Payload } from './fields';
import type { ImportOptions, ResumeState, TextImporter } from './importer';
import { completeTrace } from './complete';
import { LineSplitter, reportLine, reportOverlong, SNIFF_LINE_CHARS } from './lines';

// `time: [period] name:` where name is `system:event` (a tracepoint) or one word (a sample);
// before it `comm tid [cpu]`, `tid [cpu]`, `[cpu]` or nothing. A comm is always followed by a
// tid, which is what tells these lines from ftrace's `comm-pid [cpu]`.
const PERF_LINE_RE =
  /^\s*(?:\S.*?\s+-?\d+(?:\/-?\d+)?\s+|-?\d+(?:\/-?\d+)?\s+)?(?:\[\d+\]\s+)?\d+\.\d+:\s+(?:\d+\s+)?[\w-]+(?::[\w-]+)*:(?:\s|$)/;

/** A line of the header perf writes (tools/perf/util/header.c): `# perf version : 6.1.187`. */
const PERF_HEADER_RE = /^# (?:captured on|perf version|cmdline) *: /;

/** A callchain frame printed with spaces instead of a tab: an address, then its symbol. */
const FRAME_RE = /^\s+[0-9a-f]+ \S/;
/** The same, for the sniffer (which sees no event line before it): with its `(dso)` too. */
const SNIFF_FRAME_RE = /^\s+[0-9a-f]+ [^\s(][^(]*\([^)]*\)$/;

/** True when `head` looks like `perf script` output (tracepoints or samples). */
export function isPerfScript(head: string): boolean {
  let hits = 0;
  let checked = 0;
  for (const line of head.split('\n', 4000)) {
    // Callchain frames (tab-indented, or with spaces: `address symbol (dso)`) say nothing about
    // the format: a sample may have dozens.
    if (line.charCodeAt(0) === 9 || SNIFF_FRAME_RE.test(line.slice(0, SNIFF_LINE_CHARS))) continue;
    // What the pattern looks at is in a line's first ~100 characters; a bounded prefix keeps its
    // backtracking (\s+ after .*?) linear on a hostile line of thousands of spaces.
    const l = line.slice(0, SNIFF_LINE_CHARS).trimEnd();
    // `perf script --header` (and perf before 4.x by default) opens with perf's own header.
    if (PERF_HEADER_RE.test(l)) return true;
    if (l.length === 0 || l.startsWith('#')) continue;
    checked++;
    if (PERF_LINE_RE.test(l)) hits++;
    if (checked >= 20) break;
  }
  return hits > 0 && hits * 2 >= checked;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

class PerfScriptImporter implements TextImporter {
  private readonly splitter: LineSplitter;
  private readonly b: TraceBuilder;
  private readonly ts = { hi: 0, lo: 0, fracDigits: 0 };
  private readonly payload: Payload = { a0: 0, a1: 0 };
  private fracDigits: number | undefined;
  private lineNo = 0;
  /** After an event line, until a blank line: the lines between are its callchain. */
  private inChain = false;
  private cpuUnknownReported = false;
  private noFieldsReported = false;

  constructor(private readonly opts: ImportOptions) {
    // A later part of a file is cut at a line inside a callchain far more often than not.
    this.inChain = opts.resume !== undefined;
    const sink = new DiagnosticSink(opts.diagnosticsCap ?? 1000, opts.name);
    this.b = new TraceBuilder(opts.name ?? 'trace', 'perf-script', sink);
    if (opts.eventLines === true) this.b.lineOf = [];
    if (opts.memoryCapBytes !== undefined) {
      this.b.memoryCapBytes = opts.memoryCapBytes;
      this.b.memoryShare = opts.memoryShare ?? 1;
    }
    this.splitter = new LineSplitter(
      (chunk, start, end, no, codes) => {
        this.lineNo = no;
        // The line's code units (fields.ts reads them, not the string): a view, no copy.
        this.line(chunk.slice(start, end), no, codes.subarray(start, end));
      },
      (no, chars) => reportOverlong(this.b.diags, no, chars),
    );
    this.b.where = () => ({ line: this.lineNo });
  }

  feed(chunk: string): void {
    if (this.b.full) return;
    this.splitter.feed(chunk);
    if (this.b.full) this.b.stopAtCap({ line: this.splitter.lines });
  }

  lines(): number {
    return this.splitter.lines;
  }

  stopped(): boolean {
    return this.b.full;
  }

  resumeState(): ResumeState {
    return {};
  }

  end(): Trace[] {
    if (!this.b.full) this.splitter.end();
    const fd = this.fracDigits ?? 6;
    const t = this.b.finish({
      name: this.opts.clock ?? 'perf',
      unit: 'ns',
      source: this.opts.clock !== undefined ? 'user' : 'inferred',
      resolution: 10 ** (9 - Math.max(fd, 0)),
    });
    if (this.opts.partOfFile !== true) completeTrace(t);
    return [t];
  }

  private line(line: string, no: number, u: Uint16Array): void {
    if (line.length === 0) {
      this.inChain = false;
      return;
    }
    const c0 = line.charCodeAt(0);
    if (c0 === 35 /* # */ || c0 === 9 /* \t: a callchain frame */) return;
    if (line.trim().length === 0) {
      this.inChain = false;
      return;
    }
    const before = this.b.diags.total;
    const parsed = this.event(line, no, u);
    if (parsed) this.inChain = true;
    else if (this.inChain && FRAME_RE.test(line)) return;
    if (!parsed || this.splitter.endedMidLine) {
      reportLine(
        this.b.diags,
        line,
        no,
        parsed,
        this.splitter.endedMidLine,
        this.b.diags.total > before,
        'a perf script event line',
      );
    }
  }

  /** The first scheduler event printed with no fields says, once, what that costs. */
  private noFields(no: number, name: string): void {
    if (this.noFieldsReported) return;
    this.noFieldsReported = true;
    this.b.diags.add({
      code: DIAG.badFields,
      severity: 'warning',
      line: no,
      message:
        `${name} and the scheduler events after it print no fields (perf script -F without ` +
        'trace): they are counted, not decoded, so task states are not known',
    });
  }

  /** The first line with no `[cpu]` column says, once, what that costs. */
  private noCpu(no: number): void {
    if (this.cpuUnknownReported) return;
    this.cpuUnknownReported = true;
    this.b.diags.add({
      code: DIAG.cpuUnknown,
      severity: 'warning',
      line: no,
      message:
        'lines here and after print no [cpu] column (perf script -F without cpu, or an old perf): ' +
        'their events are on no CPU, so per-CPU views are off; record and script with the CPU ' +
        '(perf script -F +cpu) for them',
    });
  }

  private event(line: string, no: number, u: Uint16Array): boolean {
    const n = line.length;
    const b = this.b;
    // The timestamp: the first `digits.digits:` token preceded by a space (comms may hold digits).
    let tsStart = -1;
    let tsEnd = -1;
    for (let c = line.indexOf(': '); c >= 0; c = line.indexOf(': ', c + 1)) {
      let k = c - 1;
      let dot = -1;
      while (k >= 0 && (isDigit(line.charCodeAt(k)) || line.charCodeAt(k) === 46)) {
        if (line.charCodeAt(k) === 46) dot = k;
        k--;
      }
      if (dot > k + 1 && dot < c - 1 && k >= 0 && line.charCodeAt(k) === 32) {
        tsStart = k + 1;
        tsEnd = c;
        break;
      }
    }
    if (tsStart < 0) return false;
    // Before it: `comm tid[/pid] [cpu]`.
    let le = tsStart;
    while (le > 0 && line.charCodeAt(le - 1) === 32) le--;
    let cpu = CPU_UNKNOWN;
    if (line.charCodeAt(le - 1) === 93 /* ] */) {
      const lb = line.lastIndexOf('[', le - 1);
      if (lb < 0) return false;
      cpu = intIn(line, lb + 1, le - 1);
      if (Number.isNaN(cpu) || cpu > 0xfffe) return false;
      le = lb;
      while (le > 0 && line.charCodeAt(le - 1) === 32) le--;
    }
    // `-F` without comm leaves the tid first, perhaps with no space before it.
    const ps = le > 0 ? line.lastIndexOf(' ', le - 1) : -1;
    if (le === 0 || ps === le - 1) return false;
    const idText = line.slice(ps + 1, le);
    const slash = idText.indexOf('/');
    // perf prints `pid/tid` with -F pid,tid; the thread is what the scheduler sees.
    const tid =
      slash >= 0 ? intIn(idText, slash + 1, idText.length) : intIn(idText, 0, idText.length);
    if (Number.isNaN(tid)) return false;
    let cs = 0;
    while (cs < ps && line.charCodeAt(cs) === 32) cs++;
    let ce = Math.max(ps, 0);
    while (ce > cs && line.charCodeAt(ce - 1) === 32) ce--;
    const comm = line.slice(cs, ce);

    const ts = this.ts;
    if (!parseSplitTs(line, tsStart, tsEnd, ts)) {
      b.diags.add({
        code: DIAG.badTimestamp,
        severity: 'error',
        line: no,
        message: `bad timestamp '${line.slice(tsStart, tsEnd)}'`,
      });
      return true;
    }
    this.fracDigits ??= ts.fracDigits;

    // Optional sample period, then `system:event:`.
    let q = tsEnd + 1;
    while (q < n && line.charCodeAt(q) === 32) q++;
    let ne = line.indexOf(': ', q);
    if (ne < 0 && line.endsWith(':')) ne = n - 1;
    if (ne < 0) return false;
    let name = line.slice(q, ne);
    const sp = name.lastIndexOf(' ');
    if (sp >= 0) {
      if (!/^\d+$/.test(name.slice(0, sp).trim())) return false;
      name = name.slice(sp + 1);
    }
    if (name.length === 0) return false;
    const fs = Math.min(ne + 2, n);

    const pl = this.payload;
    let type = b.typeId(name);
    let end = n;
    while (end > fs && line.charCodeAt(end - 1) === 32) end--;
    if (end === fs && KEYED[b.kindOf(type)] === 1 && !this.splitter.endedMidLine) {
      // `-F` without `trace`: a scheduler event with no fields at all. Counted under its name,
      // said once rather than on every line.
      this.noFields(no, name);
      type = b.undecodedTypeId(name);
      pl.a0 = b.text('');
      pl.a1 = -1;
    } else {
      type = decodeOrKeep(b, type, line, u, fs, n, pl, no, this.splitter.endedMidLine);
    }
    if (cpu === CPU_UNKNOWN) this.noCpu(no);
    b.linesRead++;
    b.event(b.relTs(ts), cpu, type, b.tasks.intern(tid, comm), 0, pl.a0, pl.a1);
    b.lineOf?.push(no);
    return true;
  }
}

export function createPerfScriptImporter(opts: ImportOptions = {}): TextImporter {
  return new PerfScriptImporter(opts);
}

export function importPerfScript(text: string, opts: ImportOptions = {}): Trace[] {
  const imp = createPerfScriptImporter(opts);
  imp.feed(text);
  return imp.end();
}
