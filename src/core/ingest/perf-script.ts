// `perf script` and `perf sched script` text (tools/perf/builtin-script.c, process_event): the
// comm right-aligned in 16 columns, then the tid (or pid/tid), the CPU, the time in seconds and
// `system:event:`, then the tracepoint's own print fmt (the kernel's key=value spelling):
//   `     migration/0    18 [000]  5079.325820:       sched:sched_waking: comm=perf pid=3444 prio=120 target_cpu=000`
//   ` kworker/u8:5-kv 30173 [000]  5079.340824: sched:sched_stat_runtime: comm=kworker/u8:5 pid=30173 runtime=52880 [ns]`

import { DIAG, DiagnosticSink } from '../model/diagnostics';
import { parseSplitTs } from '../model/time';
import { Trace, TraceBuilder } from '../model/trace';
import { decodeOrKeep, intIn, Payload } from './fields';
import type { ImportOptions, ResumeState, TextImporter } from './importer';
import { LineSplitter, reportLine, reportOverlong, SNIFF_LINE_CHARS } from './lines';

const PERF_LINE_RE =
  /^\s*\S.*?\s+-?\d+(?:\/-?\d+)?\s+(?:\[\d+\]\s+)?\d+\.\d+:\s+(?:\d+\s+)?[\w-]+:[\w-]+:(?:\s|$)/;

/** True when `head` looks like `perf script` output of tracepoint events. */
export function isPerfScript(head: string): boolean {
  let hits = 0;
  let checked = 0;
  for (const line of head.split('\n', 400)) {
    // What the pattern looks at is in a line's first ~100 characters; a bounded prefix keeps its
    // backtracking (\s+ after .*?) linear on a hostile line of thousands of spaces.
    const l = line.slice(0, SNIFF_LINE_CHARS).trimEnd();
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

  constructor(private readonly opts: ImportOptions) {
    const sink = new DiagnosticSink(opts.diagnosticsCap ?? 1000, opts.name);
    this.b = new TraceBuilder(opts.name ?? 'trace', 'perf-script', sink);
    if (opts.eventLines === true) this.b.lineOf = [];
    if (opts.memoryCapBytes !== undefined) {
      this.b.memoryCapBytes = opts.memoryCapBytes;
      this.b.memoryShare = opts.memoryShare ?? 1;
    }
    this.splitter = new LineSplitter(
      (chunk, start, end, no) => {
        this.lineNo = no;
        this.line(chunk.slice(start, end), no);
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
    return [
      this.b.finish({
        name: this.opts.clock ?? 'perf',
        unit: 'ns',
        source: this.opts.clock !== undefined ? 'user' : 'inferred',
        resolution: 10 ** (9 - Math.max(fd, 0)),
      }),
    ];
  }

  private line(line: string, no: number): void {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) return;
    if (line.trim().length === 0) return;
    const before = this.b.diags.total;
    const parsed = this.event(line, no);
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

  private event(line: string, no: number): boolean {
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
    let cpu = 0;
    if (line.charCodeAt(le - 1) === 93 /* ] */) {
      const lb = line.lastIndexOf('[', le - 1);
      if (lb < 0) return false;
      cpu = intIn(line, lb + 1, le - 1);
      if (Number.isNaN(cpu) || cpu > 0xfffe) return false;
      le = lb;
      while (le > 0 && line.charCodeAt(le - 1) === 32) le--;
    }
    const ps = line.lastIndexOf(' ', le - 1);
    if (ps < 0) return false;
    const idText = line.slice(ps + 1, le);
    const slash = idText.indexOf('/');
    // perf prints `pid/tid` with -F pid,tid; the thread is what the scheduler sees.
    const tid =
      slash >= 0 ? intIn(idText, slash + 1, idText.length) : intIn(idText, 0, idText.length);
    if (Number.isNaN(tid)) return false;
    let cs = 0;
    while (cs < ps && line.charCodeAt(cs) === 32) cs++;
    let ce = ps;
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
    const type = decodeOrKeep(b, b.typeId(name), line, fs, n, pl, no, this.splitter.endedMidLine);
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
