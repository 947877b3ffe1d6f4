// ftrace text in both of its common shapes: `trace-cmd report` output (any version) and the raw
// tracefs `trace` / `trace_pipe` file. Reference: kernel/trace/trace_output.c (print_trace_fmt,
// lat_print_generic), trace-cmd's tracecmd/trace-read.c (trace_show_data) and
// libtraceevent's plugin_sched_switch.c. Lines look like:
//   trace-cmd 3.1:  `       trace-cmd-3357  [001]12014651026378: sched_switch:         trace-cmd:3357 [120] S ==> ...`
//   trace-cmd 3.1:  `          <idle>-0     [000]   330.426272: sched_wakeup:         rcu_preempt:15 [120] CPU:000`
//   trace-cmd 3.3+: `          <idle>-0     [000] d..2.   330.426272: sched_wakeup:         ...` (latency column)
//   multi-input:    `host.dat:           <idle>-0     [000] ...` (after a `host.dat: cpus=2` header)
//   tracefs:        `         python3-3269    [001] d..2.  5078.900234: sched_switch: prev_comm=python3 ...`
//   tracefs TGID:   `          <idle>-0       (-------) [000] d..2.   375.464191: sched_switch: ...`

import { DIAG, DiagnosticSink } from '../model/diagnostics';
import { LAT_SPARSE } from '../model/event-kinds';
import { ClockInfo, parseSplitTs, readSecondsTs, type TickRate, tickRate } from '../model/time';
import { Trace, TraceBuilder, TraceFormat } from '../model/trace';
import { decodeOrKeep, fastPaths, intIn, intInUnits, Payload } from './fields';
import type { ImportOptions, ResumeState, TextImporter } from './importer';
import { LineSplitter, reportLine, reportOverlong, SNIFF_LINE_CHARS } from './lines';
import { completeTrace } from './complete';

/** True when `head` (the first few KiB of a file) looks like trace-cmd report or tracefs text. */
export function isFtraceText(head: string): boolean {
  let events = 0;
  let checked = 0;
  for (const line of head.split('\n', 400)) {
    // A bounded prefix: the patterns backtrack quadratically on a line of thousands of spaces.
    const l = line.slice(0, SNIFF_LINE_CHARS).trimEnd();
    if (l.length === 0) continue;
    if (/^# tracer: /.test(l) || /^\s*(?:\S.*: )?cpus=\d+$/.test(l) || /^version = \d+/.test(l))
      return true;
    if (l.startsWith('#')) continue;
    checked++;
    if (FTRACE_EVENT_RE.test(l)) events++;
    if (checked >= 20) break;
  }
  return events > 0 && events * 2 >= checked;
}

// `comm-pid [ (tgid) ] [cpu] [latency] timestamp: name:` — loose on purpose: it only sniffs.
const FTRACE_EVENT_RE =
  /-\d+\s+(?:\(\s*[-\d]+\)\s+)?\[\d+\]\s*(?:[^\s:]{3,7}\s*)?\d+(?:\.\d+)?: \S/;

const SYSCALL_RE = /^sys_(\w+)(\(| -> )/;

/** tracefs's own syscall line at line[ns, n) (`sys_writev(fd: 9, ...)`, `sys_writev -> 0x1`), or null. */
function syscallAt(line: string, ns: number, n: number): RegExpExecArray | null {
  return line.charCodeAt(ns + 1) === 121 /* y */ && line.startsWith('sys_', ns)
    ? SYSCALL_RE.exec(line.slice(ns, Math.min(n, ns + 80)))
    : null;
}

/** An indexOf result, or -1 when it lies at or past `end` (the next line, in a chunk). */
function before(i: number, end: number): number {
  return i < end ? i : -1;
}

/** True when u[start, end) is one or more decimal digits. */
function allDigits(u: Uint16Array, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (!isDigit(u[i]!)) return false;
  return true;
}

/** The votes trace-cmd's latency width of 5 starts with. */
const PRIOR_VOTES = 2;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A character of the latency column (`d..2.`, `dNh1.`): `.`, a letter or a digit. */
function isLatencyChar(c: number): boolean {
  return c === 46 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Flavour of ftrace text, from its header or, failing that, from trace-cmd's name padding. */
type Flavour = 'trace-cmd-report' | 'ftrace-raw' | undefined;

interface Stream {
  b: TraceBuilder;
  fracDigits: number | undefined;
  mixedClockReported: boolean;
}

class FtraceTextImporter implements TextImporter {
  private readonly splitter: LineSplitter;
  private readonly streams = new Map<string, Stream>();
  private readonly order: string[] = [];
  private flavour: Flavour;
  /** Width of the `file: ` prefix trace-cmd prints when it reads several inputs or instances. */
  private prefixWidth = 0;
  private latWidth = 0;
  /**
   * How often each width of the latency column (4-6 characters) was seen, to learn it by vote.
   * trace-cmd's 5 starts with two votes: one damaged line alone can never change the width.
   */
  private latWidthVotes = [0, PRIOR_VOTES, 0];
  private readonly ts = { hi: 0, lo: 0, fracDigits: 0 };
  private readonly payload: Payload = { a0: 0, a1: 0 };
  private readonly name: string;
  private pendingHeader: { cpus?: number; version?: string } = {};
  private lastKey = '';
  /** The last prefix area's text and its key (see prefixKey). */
  private lastArea = '';
  private lastAreaKey = '';
  /** Set when reading a later part of a file: the head's first input (see anyStream). */
  private firstStream: string | undefined;
  private lastStream: Stream | undefined;
  /** A trace reached the memory cap. */
  private full = false;
  /** The line being read. */
  private lineNo = 0;
  /** ImportOptions.tscHz as a multiply-shift: a counting clock's ticks become ns as read. */
  private readonly countsToNs: TickRate | undefined;

  constructor(private readonly opts: ImportOptions) {
    this.name = opts.name ?? 'trace';
    if (opts.tscHz !== undefined && opts.recordedTicks !== true)
      this.countsToNs = tickRate(opts.tscHz);
    const r = opts.resume?.ftrace;
    if (r !== undefined) {
      this.flavour = r.flavour;
      this.prefixWidth = r.prefixWidth;
      this.latWidth = r.latWidth;
      if (r.latWidthVotes !== undefined) this.latWidthVotes = [...r.latWidthVotes];
      this.firstStream = r.firstStream;
    }
    this.splitter = new LineSplitter(
      (chunk, start, end, no, codes) => {
        this.lineNo = no;
        this.line(chunk, start, end, no, codes);
      },
      (no, chars) => reportOverlong(this.anyStream().b.diags, no, chars),
    );
  }

  feed(chunk: string): void {
    if (this.full) return;
    this.splitter.feed(chunk);
    for (const s of this.streams.values()) {
      if (!s.b.full) continue;
      // Stop at the cap: what this chunk held past it is kept, nothing after.
      s.b.stopAtCap({ line: this.splitter.lines });
      this.full = true;
    }
  }

  lines(): number {
    return this.splitter.lines;
  }

  stopped(): boolean {
    return this.full;
  }

  resumeState(): ResumeState {
    return {
      ftrace: {
        flavour: this.flavour,
        prefixWidth: this.prefixWidth,
        latWidth: this.latWidth,
        latWidthVotes: [...this.latWidthVotes],
        firstStream: this.firstStream ?? this.order[0],
      },
    };
  }

  end(): Trace[] {
    if (!this.full) this.splitter.end();
    if (this.streams.size === 0) this.stream('');
    const out: Trace[] = [];
    for (const key of this.order) {
      const s = this.streams.get(key)!;
      const counts = s.fracDigits !== undefined && s.fracDigits < 0;
      const converted = counts && s.b.countsToNs !== undefined;
      const unit = counts && !converted ? 'count' : 'ns';
      const clock: ClockInfo = {
        name: this.opts.clock ?? 'unknown',
        unit,
        source: this.opts.clock !== undefined ? 'user' : 'inferred',
        resolution: counts ? 1 : 10 ** (9 - (s.fracDigits ?? 9)),
        ...(converted ? { tscHz: this.opts.tscHz! } : {}),
      };
      const t = s.b.finish(clock);
      if (this.opts.partOfFile !== true) completeTrace(t);
      out.push(t);
    }
    return out;
  }

  private stream(key: string): Stream {
    if (key === this.lastKey && this.lastStream !== undefined) return this.lastStream;
    const s = this.streamSlow(key);
    this.lastKey = key;
    this.lastStream = s;
    return s;
  }

  private streamSlow(key: string): Stream {
    let s = this.streams.get(key);
    if (s === undefined) {
      const format: TraceFormat = this.flavour ?? 'trace-cmd-report';
      const name = key === '' ? this.name : key;
      const sink = new DiagnosticSink(this.opts.diagnosticsCap ?? 1000, this.opts.name);
      const b = new TraceBuilder(name, format, sink);
      b.where = () => ({ line: this.lineNo });
      if (this.opts.eventLines === true) b.lineOf = [];
      if (this.opts.memoryCapBytes !== undefined) {
        b.memoryCapBytes = this.opts.memoryCapBytes;
        b.memoryShare = this.opts.memoryShare ?? 1;
      }
      s = {
        b,
        fracDigits: undefined,
        mixedClockReported: false,
      };
      if (this.pendingHeader.cpus !== undefined) s.b.header.cpus = this.pendingHeader.cpus;
      if (this.pendingHeader.version !== undefined) s.b.header.version = this.pendingHeader.version;
      this.streams.set(key, s);
      this.order.push(key);
    }
    return s;
  }

  private diagnosticCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.b.diags.total;
    return n;
  }

  /** The stream a diagnostic about a non-event line goes to. */
  private anyStream(): Stream {
    const first = this.firstStream ?? this.order[0];
    return first !== undefined ? this.stream(first) : this.stream('');
  }

  /**
   * The latency column's width, for lines that glue it to an integer timestamp: the width most
   * lines showed (5 until others outvote it). Only 4-6 (irqs-off, need-resched, hardirq/softirq,
   * preempt depth, migrate disable) count, so one damaged line cannot make every later glued
   * line unreadable.
   */
  private learnLatWidth(w: number): void {
    if (w < 4 || w > 6) return;
    const v = this.latWidthVotes;
    v[w - 4]!++;
    if (v[w - 4]! > v[(this.latWidth > 0 ? this.latWidth : 5) - 4]!) this.latWidth = w;
  }

  private line(chunk: string, start: number, end: number, no: number, u: Uint16Array): void {
    if (start === end) return;
    if (u[start] === 35 /* # */) {
      this.comment(chunk.slice(start, end));
      return;
    }
    // Events first: they are nearly every line, and the header patterns cost more than a failed parse.
    const last = this.splitter.endedMidLine;
    const before = last ? this.diagnosticCount() : 0;
    const parsed = this.event(chunk, u, start, end, no) || this.header(chunk.slice(start, end), no);
    if (!parsed || last) {
      reportLine(
        this.anyStream().b.diags,
        chunk.slice(start, end),
        no,
        parsed,
        last,
        this.diagnosticCount() > before,
        'an ftrace event line',
      );
    }
  }

  private comment(line: string): void {
    this.flavour ??= 'ftrace-raw';
    const m = /^# tracer: (\S+)/.exec(line);
    if (m) {
      this.pendingHeader = {};
      const s = this.stream('');
      s.b.header.tracer = m[1]!;
      return;
    }
    const e = /^# entries-in-buffer\/entries-written: (\d+)\/(\d+)\s+#P:(\d+)/.exec(line);
    if (e) {
      const s = this.stream('');
      s.b.header.entriesInBuffer = Number(e[1]);
      s.b.header.entriesWritten = Number(e[2]);
      s.b.header.cpus = Number(e[3]);
      if (Number(e[2]) > Number(e[1])) s.b.lostEvents += Number(e[2]) - Number(e[1]);
    }
  }

  /** Non-event lines trace-cmd and tracefs print between events. True when the line was one. */
  private header(line: string, no: number): boolean {
    const t = line.trimStart();
    const cpus = /^(?:(.*): )?cpus=(\d+)$/.exec(t);
    if (cpus) {
      this.flavour ??= 'trace-cmd-report';
      const indent = line.length - t.length;
      const width = indent + (cpus[1] !== undefined ? cpus[1].length + 2 : 0);
      if (width > 0) {
        // trace-cmd prints `%*s: ` (file name) or `%*s  ` (no name) in front of every line.
        this.prefixWidth = width;
        const s = this.stream(cpus[1] ?? '');
        s.b.header.cpus = Number(cpus[2]);
      } else if (this.streams.size === 0) {
        this.pendingHeader.cpus = Number(cpus[2]);
      } else {
        this.stream('').b.header.cpus = Number(cpus[2]);
      }
      return true;
    }
    if (t.startsWith('version = ')) {
      this.flavour ??= 'trace-cmd-report';
      this.pendingHeader.version = t.slice(10).trim();
      for (const s of this.streams.values()) s.b.header.version ??= this.pendingHeader.version;
      return true;
    }
    if (/^CPU \d+ is empty$/.test(t)) return true;
    // A stack the kernel_stack / user_stack event (`-T`, options/stacktrace) printed after its
    // event line, one frame a line: trace-cmd `=> do_idle (ffffffff90141d9a)`, tracefs
    // ` => do_idle` under `<stack trace>`. The model keeps scheduling, not stacks.
    if (t.startsWith('=> ') || t === '<stack trace>' || t === '<user stack trace>') return true;
    // trace-cmd: `CPU:1 [12 EVENTS DROPPED]`; tracefs (trace.c print_trace_line): `CPU:1 [LOST 12 EVENTS]`.
    const lost =
      /CPU:(\d+) \[(?:(\d+) )?EVENTS DROPPED\]$/.exec(t) ??
      /CPU:(\d+) \[LOST (?:(\d+) )?EVENTS\]$/.exec(t);
    if (lost) {
      const s = this.anyStream();
      const n = lost[2] !== undefined ? Number(lost[2]) : 0;
      if (n > 0 && s.b.lostEvents >= 0) s.b.lostEvents += n;
      else if (n === 0) s.b.lostEvents = -1;
      s.b.diags.add({
        code: DIAG.eventsLost,
        severity: 'warning',
        line: no,
        message: `CPU ${lost[1]}: ring buffer dropped ${lost[2] ?? 'an unknown number of'} events here`,
      });
      return true;
    }
    if (/^CPU:\d+ \[SUBBUFFER START\]/.test(t)) return true;
    if (/^#{5} CPU \d+ buffer started #{4}$/.test(t)) {
      const s = this.anyStream();
      s.b.diags.add({
        code: DIAG.eventsLost,
        severity: 'info',
        line: no,
        message: `${t.slice(6, -5)}: events before this point on that CPU were overwritten`,
      });
      return true;
    }
    return false;
  }

  /**
   * The stream key for the prefix area line[start, end) (`host.dat` in `host.dat: `), trimmed;
   * the last area's key is reused when the area is the same text (nearly every line).
   */
  private prefixKey(line: string, u: Uint16Array, start: number, end: number): string {
    const a = this.lastArea;
    if (a.length === end - start) {
      let i = 0;
      while (i < a.length && a.charCodeAt(i) === u[start + i]) i++;
      if (i === a.length) return this.lastAreaKey;
    }
    this.lastArea = line.slice(start, end);
    this.lastAreaKey = this.lastArea.trim();
    return this.lastAreaKey;
  }

  /**
   * Parses the event line line[p0, n) (line is the whole chunk; n is the line's end; `u` its code
   * units, read instead of charCodeAt: see lines.ts LineHandler); false when it is not one.
   */
  private event(line: string, u: Uint16Array, p0: number, n: number, no: number): boolean {
    let p = p0;
    let key = '';
    if (this.prefixWidth > 0) {
      const pw = this.prefixWidth;
      if (n - p0 < pw) return false;
      if (u[p0 + pw - 2] === 58 /* : */ && u[p0 + pw - 1] === 32) {
        key = this.prefixKey(line, u, p0, p0 + pw - 2);
      } else {
        let blank = true;
        for (let i = p0; i < p0 + pw && blank; i++) blank = u[i] === 32;
        if (!blank && line.slice(p0, p0 + pw).trim() !== '') return false;
      }
      p = p0 + pw;
    }
    // The CPU field `[003]`: the first `[digits]` preceded by a space.
    let j = line.indexOf('[', p);
    let cpuEnd = -1;
    while (j >= 0 && j < n) {
      let k = j + 1;
      while (k < n && isDigit(u[k]!)) k++;
      if (k > j + 1 && k < n && u[k] === 93 && j > p && u[j - 1] === 32) {
        cpuEnd = k;
        break;
      }
      j = line.indexOf('[', j + 1);
    }
    if (cpuEnd < 0) return false;
    const cpu = intInUnits(u, j + 1, cpuEnd);
    if (cpu > 0xfffe) return false;

    // `comm-pid` and the optional `(tgid)` column before the CPU.
    let le = j;
    while (le > p && u[le - 1] === 32) le--;
    let tgid = -1;
    let hasTgid = false;
    if (le > p && u[le - 1] === 41 /* ) */) {
      const lp = line.lastIndexOf('(', le - 1);
      if (lp < p) return false;
      const inner = line.slice(lp + 1, le - 1).trim();
      hasTgid = true;
      if (inner.length > 0 && isDigit(inner.charCodeAt(0))) tgid = intIn(inner, 0, inner.length);
      le = lp;
      while (le > p && u[le - 1] === 32) le--;
    }
    // The pid: read back from its end; the digits end at the dash nearly always (a comm may
    // hold dashes: the last one before the pid is the one).
    let dash = le - 1;
    let pid = 0;
    for (let mul = 1; fastPaths.on && dash >= p && dash > le - 16; dash--, mul *= 10) {
      const d = u[dash]! - 48;
      if (d < 0 || d > 9) break;
      pid += d * mul;
    }
    if (dash < p || dash === le - 1 || u[dash] !== 45 /* - */) {
      dash = le - 1;
      while (dash >= p && u[dash] !== 45 /* - */) dash--;
      if (dash < p) return false;
      pid = intInUnits(u, dash + 1, le);
      if (Number.isNaN(pid)) return false;
    }
    let cs = p;
    while (cs < dash && u[cs] === 32) cs++;

    // Optional latency column, then the timestamp and `:`.
    let q = cpuEnd + 1;
    while (q < n && u[q] === 32) q++;
    // The latency column is line[latStart, latEnd).
    const latStart = q;
    let latEnd = q;
    if (q < n && !isDigit(u[q]!)) {
      // One scan finds whichever of ' ' and ':' comes first, and checks the column's characters.
      let e = q;
      let latChars = true;
      let c = 0;
      for (; e < n; e++) {
        c = u[e]!;
        if (c === 32 || c === 58) break;
        if (latChars && !isLatencyChar(c)) latChars = false;
      }
      if (e < n && c === 32) {
        latEnd = e;
        if (latChars) this.learnLatWidth(e - q);
        q = e;
        while (q < n && u[q] === 32) q++;
      } else {
        const colon = e < n ? e : -1;
        // trace-cmd 3.3+ with an integer clock glues the two: `[001] d..2.12014651026378:`.
        // The width the lines voted for; when it leaves no integer timestamp, the first of
        // 5, 4, 6 that does. Either way the width that worked gets this line's vote.
        let w = this.latWidth > 0 ? this.latWidth : 5;
        if (colon >= 0) {
          if (!allDigits(u, q + w, colon)) {
            for (const alt of [5, 4, 6]) {
              if (alt !== w && allDigits(u, q + alt, colon)) {
                w = alt;
                break;
              }
            }
          }
          if (allDigits(u, q + w, colon)) this.learnLatWidth(w);
        }
        w = Math.min(w, n - q);
        latEnd = q + w;
        q += w;
      }
    }
    const ts = this.ts;
    // `seconds.fraction:` in one pass (readSecondsTs); anything else the general way.
    let tsEnd = fastPaths.on ? readSecondsTs(u, q, n, ts) : -1;
    if (tsEnd < 0) {
      tsEnd = before(line.indexOf(':', q), n);
      if (tsEnd < 0) return false;
      if (!parseSplitTs(line, q, tsEnd, ts)) {
        const s = this.stream(key);
        s.b.diags.add({
          code: DIAG.badTimestamp,
          severity: 'error',
          line: no,
          message: `bad timestamp '${line.slice(q, tsEnd)}'`,
        });
        return true; // reported; not a second diagnostic
      }
    }

    // Event name, then its fields.
    let ns = tsEnd + 1;
    if (ns >= n || u[ns] !== 32) return false;
    ns++;
    let name = '';
    // The fields: line[ts0, te).
    let ts0: number;
    let te = n;
    // The first ':' or ' ' after the name's start; a name is what ends at a ':' before any space.
    // A name seen before is found and read in one go (namedTypeAt: never a `sys_` name).
    const known =
      fastPaths.on && this.lastStream !== undefined && key === this.lastKey
        ? this.lastStream.b.namedTypeAt(u, ns, n)
        : -1;
    let ne = ns;
    if (known >= 0) {
      ne = ns + this.lastStream!.b.eventTypes[known]!.name.length;
    } else {
      while (ne < n) {
        const c = u[ne]!;
        if (c === 58 || c === 32) break;
        ne++;
      }
    }
    const named = ne > ns && ne < n && u[ne] === 58;
    // Out of line, and called for every name not seen before (all of them in the first lines),
    // so V8 optimises this function with feedback for the call: a `sys_` name met later used to
    // deoptimise it and have it recompiled.
    const sys = known < 0 ? syscallAt(line, ns, n) : null;
    if (sys !== null) {
      // tracefs prints syscall events its own way (kernel/trace/trace_syscalls.c):
      // `sys_writev(fd: 9, vec: 0x7f3a1e7faca0, vlen: 1)` and `sys_writev -> 0x1`.
      this.flavour ??= 'ftrace-raw'; // trace-cmd prints these as `sys_enter_writev:` events
      const enter = sys[2] === '(';
      name = `sys_${enter ? 'enter' : 'exit'}_${sys[1]!}`;
      ts0 = ns + sys[0].length;
      if (enter && u[n - 1] === 41 /* ) */) te = n - 1;
    } else if (named && (ne + 1 === n || u[ne + 1] === 32)) {
      const nameLen = ne - ns;
      let fs = ne + 1;
      if (fs < n) fs++; // the space after `name:`
      // No header told us: trace-cmd pads short names, tracefs (trace_pipe) does not.
      this.flavour ??= nameLen < 19 && fs < n && u[fs] === 32 ? 'trace-cmd-report' : 'ftrace-raw';
      if (this.flavour !== 'ftrace-raw') {
        // trace-cmd pads names to 20 columns: ` %s: ` then 20 - len spaces.
        for (let pad = 20 - nameLen; pad > 0 && fs < n && u[fs] === 32; pad--) fs++;
      }
      ts0 = fs;
    } else {
      // Function tracer lines have no event name: `do_timer <-tick_do_update_jiffies64`.
      name = 'function';
      ts0 = ns;
    }
    // After the flavour is known: a new stream takes it as its format.
    const s = this.stream(key);
    const b = s.b;
    const type0 = name !== '' ? b.typeId(name) : known >= 0 ? known : b.typeIdAt(line, ns, ne);

    // Clock shape: all fractional (ns clocks) or all integer (counts), per stream.
    if (s.fracDigits === undefined) {
      s.fracDigits = ts.fracDigits;
      // A counting clock with a known rate: ns from its first timestamp on (ImportOptions.tscHz).
      if (ts.fracDigits < 0 && this.countsToNs !== undefined) b.countsToNs = this.countsToNs;
    } else if (s.fracDigits !== ts.fracDigits && !s.mixedClockReported) {
      s.mixedClockReported = true;
      b.diags.add({
        code: DIAG.badTimestamp,
        severity: 'warning',
        line: no,
        message: `timestamp '${line.slice(q, tsEnd)}' is printed differently from the first one (mixed clocks?)`,
      });
    }

    const pl = this.payload;
    const type = decodeOrKeep(b, type0, line, u, ts0, te, pl, no, this.splitter.endedMidLine);
    const task = b.tasks.internUnits(pid, u, line, cs, dash);
    if (hasTgid) {
      b.header.tgidColumn = true;
      if (tgid >= 0) b.tasks.setTgid(pid, tgid);
    }
    let latId = 0;
    if (latEnd > latStart) {
      b.header.latencyColumn = true;
      latId = b.latencyIdAt(u, line, latStart, latEnd);
    }
    b.linesRead++;
    const i = b.event(b.relTs(ts), cpu, type, task, latId === LAT_SPARSE ? 0 : latId, pl.a0, pl.a1);
    b.lineOf?.push(no);
    if (latId === LAT_SPARSE) b.events.setSparseLatency(i, line.slice(latStart, latEnd));
    return true;
  }
}

export function createFtraceTextImporter(opts: ImportOptions = {}): TextImporter {
  return new FtraceTextImporter(opts);
}

/** Imports a whole ftrace text (for tests and small inputs; files go through io/). */
export function importFtraceText(text: string, opts: ImportOptions = {}): Trace[] {
  const imp = createFtraceTextImporter(opts);
  imp.feed(text);
  return imp.end();
}
