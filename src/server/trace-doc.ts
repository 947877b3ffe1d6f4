// One trace document as the language server sees it: parsed with each event's line, its role
// (host or guest), and, with its pair, the engine's analysis turned into LSP diagnostics, hovers,
// symbols and definitions. The only place where core results become LSP types.

import {
  CodeLens,
  Diagnostic,
  DiagnosticSeverity,
  DocumentSymbol,
  Hover,
  Location,
  MarkupKind,
  Range,
  SymbolKind,
} from 'vscode-languageserver';
import type { PairAnalysis } from '../core/analyze/types';
import { relativeMap } from '../core/correlate/clock-map';
import { identifyVcpus } from '../core/correlate/vcpu-map';
import { importText } from '../core/ingest/index';
import type { Diagnostic as CoreDiagnostic } from '../core/model/diagnostics';
import { Kind } from '../core/model/event-kinds';
import { kindAt, markerAt, switchAt, wakeupAt } from '../core/model/payload';
import { lowerBound, partitionPoint } from '../core/model/search';
import { formatAbsTs, formatClockDuration } from '../core/model/time';
import { CPU_UNKNOWN, type Trace } from '../core/model/trace';
import { buildTimelines, Timelines } from '../core/timeline/build';
import { TASK_STATE_COUNT, TASK_STATE_NAMES, TaskState } from '../core/timeline/states';
import type { ServerSettings, TraceRole } from '../protocol/lsp-ext';

export interface ParsedDoc {
  trace: Trace;
  /** More traces when trace-cmd printed several inputs in one file (the first is used). */
  others: number;
  timelines: Timelines;
  lines: Int32Array;
  role: TraceRole;
  /** First line (0-based) where each pid appears, as the event's task or in its fields. */
  firstLine: Map<number, number>;
}

/** Parses a document's text; undefined when it is not a trace we read. */
export function parseDoc(text: string, name: string, s: ServerSettings): ParsedDoc | undefined {
  const traces = importText(text, { name, eventLines: true, diagnosticsCap: s.maxDiagnostics });
  return traces === undefined ? undefined : describeTraces(traces, name);
}

/**
 * A document's traces, however they were read (from the synced text, or from the file by the
 * core reader with `eventLines`): its lines, timelines, role and each pid's first line.
 */
export function describeTraces(traces: Trace[], name: string): ParsedDoc | undefined {
  const trace = traces[0];
  if (trace === undefined) return undefined;
  const lines = trace.eventLines ?? new Int32Array(0);
  const timelines = buildTimelines(trace);
  const firstLine = new Map<number, number>();
  const see = (task: number, i: number): void => {
    const pid = trace.tasks.pid(task);
    if (!firstLine.has(pid)) firstLine.set(pid, lines[i]! - 1);
  };
  for (let i = 0; i < trace.events.length; i++) {
    see(trace.events.task(i), i);
    const k = kindAt(trace, i);
    if (k === Kind.schedSwitch) {
      const sw = switchAt(trace, i);
      see(sw.prev, i);
      see(sw.next, i);
    } else if (k === Kind.schedWakeup || k === Kind.schedWaking || k === Kind.schedWakeupNew)
      see(wakeupAt(trace, i).task, i);
  }
  return {
    trace,
    others: traces.length - 1,
    timelines,
    lines,
    role: roleOf(trace, name),
    firstLine,
  };
}

/** Host when it shows a VMM's vCPU threads or KVM events; else from the file name; else unknown. */
export function roleOf(trace: Trace, name: string): TraceRole {
  if (identifyVcpus(trace).vms.length > 0) return 'host';
  if (trace.eventTypes.some((t) => t.kind === Kind.kvmEntry || t.kind === Kind.kvmExit))
    return 'host';
  const base = name.toLowerCase().replace(/^.*[\\/]/, '');
  if (/^host([._-]|$)/.test(base)) return 'host';
  if (/^guest([._-]|$)/.test(base)) return 'guest';
  return 'unknown';
}

/** The sibling file name of the other machine: host.txt.gz <-> guest.txt.gz. */
export function siblingName(base: string): string | undefined {
  const m = /^(host|guest)([._-].*)?$/i.exec(base);
  if (m === null) return undefined;
  const other = m[1]!.toLowerCase() === 'host' ? 'guest' : 'host';
  const cased = m[1] === m[1]!.toUpperCase() ? other.toUpperCase() : other;
  return cased + (m[2] ?? '');
}

/** A whole line: LSP's largest character index (clients clamp it to the line's end). */
const LINE_END = 2_147_483_647;
export const lineRange = (line: number): Range => Range.create(line, 0, line, LINE_END);

export function severity(
  s: ServerSettings['findingsSeverity'] | CoreDiagnostic['severity'],
): DiagnosticSeverity {
  switch (s) {
    case 'error':
      return DiagnosticSeverity.Error;
    case 'warning':
      return DiagnosticSeverity.Warning;
    case 'information':
    case 'info':
      return DiagnosticSeverity.Information;
    default:
      return DiagnosticSeverity.Hint;
  }
}

/** The parse diagnostics: file, line, stable code, reason. */
export function parseDiagnostics(d: ParsedDoc): Diagnostic[] {
  return d.trace.diagnostics.map((x) => ({
    range: lineRange(Math.max(0, (x.line ?? 1) - 1)),
    severity: severity(x.severity),
    code: x.code,
    source: 'vcpu-lens',
    message: plainText(x.message, MAX_MESSAGE),
  }));
}

/** Index of the first event at or after host-relative time t (events are in time order). */
export function eventAtOrAfter(t: Trace, rel: number): number {
  return partitionPoint(0, t.events.length, (i) => t.events.ts(i) < rel);
}

/** The event on `line` (0-based), or -1. */
export function eventOnLine(d: ParsedDoc, line: number): number {
  const want = line + 1;
  const i = lowerBound(d.lines, want);
  return i < d.lines.length && d.lines[i] === want ? i : -1;
}

/** A duration in the trace's clock unit, as people read it. */
const fmtDur = formatClockDuration;

/** How the clock map was found, as the hover says it. */
export const CLOCK_METHOD: Record<NonNullable<PairAnalysis['clock']>['method'], string> = {
  estimated: 'clock map estimated from the events',
  user: 'clock map from the offset you gave',
  'trace-cmd': 'clock map from trace-cmd’s time sync',
  recorded: 'clock map from the recorded TSC offsets',
  paired: 'clock map from paired events',
  'guest-only': 'no host trace: vCPU absence inferred from the guest alone',
};

const FIELD_HELP: Record<string, string> = {
  prev_comm: 'the task leaving the CPU',
  prev_pid: 'thread id of the task leaving the CPU',
  prev_prio: 'its kernel priority (120 = nice 0)',
  prev_state:
    'why it left: `R`/`R+` still runnable (preempted), `S` sleeping, `D` uninterruptible sleep, `T` stopped, `X`/`Z` exiting',
  next_comm: 'the task taking the CPU',
  next_pid: 'thread id of the task taking the CPU',
  next_prio: 'its kernel priority',
  target_cpu: 'the CPU the woken task will run on',
  orig_cpu: 'CPU the task migrates from',
  dest_cpu: 'CPU the task migrates to',
  vcpu_id: 'the vCPU (KVM)',
  reason: 'why the vCPU left guest mode (KVM exit reason)',
  runtime: 'CPU time since the last report, ns',
  vruntime: 'the task’s virtual runtime (fair scheduler), ns',
};

/** Hover: the event under the cursor, its task's totals, the aligned time on the other machine. */
export function hover(
  d: ParsedDoc,
  line: number,
  word: string | undefined,
  a: PairAnalysis | undefined,
  side: TraceRole,
): Hover | undefined {
  const parts: string[] = [];
  if (word !== undefined && FIELD_HELP[word] !== undefined)
    parts.push(`**${word}**: ${FIELD_HELP[word].replace(/[<>[\]]/g, (c) => `\\${c}`)}`);
  const i = eventOnLine(d, line);
  if (i >= 0) {
    const t = d.trace;
    const unit = t.clock.unit;
    const abs = t.tsBase + BigInt(t.events.ts(i));
    const ty = t.eventTypes[t.events.type(i)]!;
    parts.push(
      `**${mdText(ty.name)}** ${t.events.cpu(i) === CPU_UNKNOWN ? 'on no known CPU (the line prints none)' : `on CPU ${t.events.cpu(i)}`} at ${formatAbsTs(abs, unit, unit === 'ns' ? 9 : 0)}`,
    );
    // A guest trace alone has no host time to show: its host is a model on the guest's clock.
    if (
      a?.clock !== undefined &&
      a.guestOnly === undefined &&
      (side === 'host' || side === 'guest')
    ) {
      const rel = relativeMap(a.clock, a.guest.tsBase, a.host.tsBase);
      const r = t.events.ts(i);
      const other = side === 'host' ? a.guest : a.host;
      const otherRel = side === 'host' ? rel.toGuest(r) : rel.toHost(r);
      parts.push(
        `on the ${side === 'host' ? 'guest' : 'host'}: ${formatAbsTs(other.tsBase + BigInt(Math.round(otherRel)), unit, unit === 'ns' ? 9 : 0)} (${CLOCK_METHOD[a.clock.method]}, ±${fmtDur(a.clock.bound, unit)})`,
      );
    }
    const task = t.events.task(i);
    const pid = t.tasks.pid(task);
    const k = d.timelines.tasks.indexOf.get(pid);
    if (pid !== 0 && k !== undefined) {
      const base = k * TASK_STATE_COUNT;
      const tot = d.timelines.tasks.totals;
      const shown = [TaskState.running, TaskState.runnable, TaskState.preempted, TaskState.sleeping]
        .filter((st) => tot[base + st]! > 0)
        .map((st) => `${TASK_STATE_NAMES[st]} ${fmtDur(tot[base + st]!, unit)}`);
      // Over this trace's span: a vCPU's totals below cover only the window both traces share.
      const span = fmtDur(d.timelines.end - d.timelines.start, unit);
      parts.push(
        `${mdText(t.tasks.comm(task))}-${pid} over this whole trace (${span}): ${shown.join(', ') || 'no time recorded'}`,
      );
    }
    if (side === 'host' && a !== undefined) {
      const v = a.vcpuMap.chosen?.vcpus.find((x) => x.hostTid === pid);
      const vt = v !== undefined ? a.states?.time.find((x) => x.vcpu === v.vcpu) : undefined;
      const w = a.window;
      if (v !== undefined && vt !== undefined)
        parts.push(
          `vCPU ${v.vcpu} over ${w !== undefined ? `the ${fmtDur(w.end - w.start, unit)} both traces cover` : 'the host trace'}: running ${fmtDur(vt.running, unit)}, preempted ${fmtDur(vt.preempted, unit)} in ${vt.preemptions} preemptions, waiting ${fmtDur(vt.waiting, unit)}`,
        );
    }
    if (kindAt(t, i) === Kind.print) parts.push(`marker: ${mdText(markerAt(t, i).message, 500)}`);
  }
  if (parts.length === 0) return undefined;
  return { contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n') } };
}

/** Longest diagnostic message (a finding quoting many names stays readable). */
export const MAX_MESSAGE = 2000;

// Control characters (C0, DEL, C1), bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Trace-derived text (a comm, a marker) for the editor: a comm is whatever a process wrote, so
 * control and bidi characters become visible `\uXXXX` escapes (an RTL override cannot reorder a
 * message, a NUL cannot cut it) and it is cut at `max` characters.
 */
export function plainText(s: string, max = 128): string {
  const t = s.length > max ? `${s.slice(0, max)}…` : s;
  return t.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The same for a Markdown hover: every character Markdown or HTML acts on is escaped too. */
export function mdText(s: string, max = 128): string {
  return plainText(s, max).replace(/[\\`*_{}[\]()#+\-.!|<>&~:"']/g, (c) => `\\${c}`);
}

/** Symbols: CPUs, tasks (by running time) and markers, each at its first line. */
export function symbols(d: ParsedDoc): DocumentSymbol[] {
  const t = d.trace;
  const firstOnCpu = new Map<number, number>();
  const markers: DocumentSymbol[] = [];
  for (let i = 0; i < t.events.length; i++) {
    const cpu = t.events.cpu(i);
    if (cpu !== CPU_UNKNOWN && !firstOnCpu.has(cpu)) firstOnCpu.set(cpu, d.lines[i]! - 1);
    if (markers.length < 500 && kindAt(t, i) === Kind.print) {
      const r = lineRange(d.lines[i]! - 1);
      const name = plainText(markerAt(t, i).message.trim(), 80) || '(empty marker)';
      markers.push({ name, kind: SymbolKind.Event, range: r, selectionRange: r });
    }
  }
  const group = (name: string, kind: SymbolKind, children: DocumentSymbol[]): DocumentSymbol => {
    const first = children.reduce((m, c) => Math.min(m, c.range.start.line), Infinity);
    const r = lineRange(first === Infinity ? 0 : first);
    return { name, kind, range: r, selectionRange: r, children };
  };
  const cpus = [...firstOnCpu]
    .sort((x, y) => x[0] - y[0])
    .map(([cpu, line]): DocumentSymbol => {
      const r = lineRange(line);
      return { name: `CPU ${cpu}`, kind: SymbolKind.Namespace, range: r, selectionRange: r };
    });
  const tl = d.timelines.tasks;
  const tasks: DocumentSymbol[] = [];
  const order = [...tl.indexOf.entries()]
    .filter(([pid]) => pid !== 0)
    .map(([pid, k]) => ({ pid, k, run: tl.totals[k * TASK_STATE_COUNT + TaskState.running]! }))
    .sort((x, y) => y.run - x.run)
    .slice(0, 1000);
  for (const { pid, k, run } of order) {
    const line = d.firstLine.get(pid);
    if (line === undefined) continue;
    const r = lineRange(line);
    tasks.push({
      name: `${plainText(tl.comms[k] ?? '')}-${pid}`,
      detail: `running ${fmtDur(run, t.clock.unit)}`,
      kind: SymbolKind.Object,
      range: r,
      selectionRange: r,
    });
  }
  const out = [
    group('CPUs', SymbolKind.Namespace, cpus),
    group('Tasks', SymbolKind.Namespace, tasks),
  ];
  if (markers.length > 0) out.push(group('Markers', SymbolKind.Namespace, markers));
  return out;
}

/** CodeLens on the first line: open the timeline, pair, analyze. */
export function codeLenses(uri: string, role: TraceRole, pairName: string | undefined): CodeLens[] {
  const r = Range.create(0, 0, 0, 0);
  const other = role === 'guest' ? 'host' : 'guest';
  return [
    {
      range: r,
      command: { title: 'Open Timeline', command: 'vcpuLens.openTimeline', arguments: [uri] },
    },
    {
      range: r,
      command: {
        title: pairName !== undefined ? `Paired with ${pairName}` : `Pair with ${other} trace…`,
        command: 'vcpuLens.pairTraces',
        arguments: [uri],
      },
    },
    { range: r, command: { title: 'Analyze', command: 'vcpuLens.analyze', arguments: [uri] } },
  ];
}

/** Go to definition: from a pid (a number, `comm-1234`, `pid=1234`) to its first appearance. */
export function definition(
  d: ParsedDoc,
  uri: string,
  lineText: string,
  character: number,
): Location | undefined {
  let s = character;
  let e = character;
  while (s > 0 && /\d/.test(lineText[s - 1]!)) s--;
  while (e < lineText.length && /\d/.test(lineText[e]!)) e++;
  if (s === e) return undefined;
  const pid = Number(lineText.slice(s, e));
  const before = lineText.slice(0, s);
  // Only numbers that name a task: `comm-PID`, `comm:PID` (sched_switch) or a `*pid=` field.
  if (!/(-|:|pid=)$/.test(before) || /CPU:$/.test(before)) return undefined;
  const line = d.firstLine.get(pid);
  return line === undefined ? undefined : Location.create(uri, lineRange(line));
}
