// The analysis on a trace's lines: the longest vCPU preemptions where they happened (host: the
// sched_switch that preempted the vCPU; guest: the line of the thread that lost the time) and
// the findings, ranked by the time they cost. The few costliest are warnings; preemptions past
// `maxStallDiagnostics` are summarised in one "… and N more"; findings that land on one line
// are merged into one message. Each carries its timeline interval (`data`, a RevealTarget) for
// the "Show in Timeline" code action. A guest trace alone (guest-only) says the same as inferred
// vCPU absence, with its evidence and confidence: no host task is known to have run instead.

import { Diagnostic, DiagnosticSeverity } from 'vscode-languageserver';
import type { Finding, PairAnalysis } from '../core/analyze/types';
import {
  ABSENCE_EVIDENCE_NAMES,
  ABSENCE_RECORD_HINT,
  type AbsenceTable,
} from '../core/correlate/absence';
import { relativeMap } from '../core/correlate/clock-map';
import type { Stall } from '../core/correlate/stalls';
import { DIAG } from '../core/model/diagnostics';
import { Kind } from '../core/model/event-kinds';
import { kindAt, switchAt } from '../core/model/payload';
import { lowerBound, partitionPoint } from '../core/model/search';
import { formatClockDuration, formatCount } from '../core/model/time';
import { taskIntervalAt } from '../core/timeline/build';
import { TaskState } from '../core/timeline/states';
import { laneId } from '../core/view/lane-id';
import { modelOrigin } from '../core/view/model';
import type { RevealTarget, ServerSettings } from '../protocol/lsp-ext';
import {
  eventAtOrAfter,
  lineRange,
  ParsedDoc,
  plainText,
  severity,
  MAX_MESSAGE,
} from './trace-doc';

/** The costliest diagnostics get the configured severity; the rest are information. */
const TOP_WARNINGS = 6;
/** How far (in events) a guest thread's own line is looked for around a preemption. */
const THREAD_LINE_SEARCH = 50_000;
/** Evidence of a finding that says the time it cost, in the order they are preferred. */
const COST_KEYS = ['stragglerTime', 'spinWaste', 'delayed', 'lost', 'overTime'] as const;

/** The summary of the preemptions not shown one by one. */
export const MORE_PREEMPTIONS = 'vcpu-preempted-more';

interface Ranked {
  line: number;
  cost: number;
  diagnostic: Diagnostic;
}

/** The pair a document belongs to, for the diagnostics' RevealTarget. */
export interface PairUris {
  hostUri: string;
  guestUri: string;
}

export function analysisDiagnostics(
  d: ParsedDoc,
  a: PairAnalysis,
  side: 'host' | 'guest',
  s: ServerSettings,
  pair: PairUris,
): Diagnostic[] {
  const t = d.trace;
  const unit = a.host.clock.unit;
  const dur = (v: number): string => formatClockDuration(v, unit);
  const rel =
    a.clock !== undefined ? relativeMap(a.clock, a.guest.tsBase, a.host.tsBase) : undefined;
  if (side === 'guest' && rel === undefined) return [];
  const origin = modelOrigin(a);
  const target = (start: number, end: number, lane?: string): RevealTarget => ({
    ...pair,
    startNs: Math.round(start - origin),
    endNs: Math.round(end - origin),
    ...(lane !== undefined ? { lane } : {}),
  });
  const sev = severity(s.findingsSeverity);
  const hostComm = new Map((a.vcpuMap.chosen?.vcpus ?? []).map((v) => [v.vcpu, v.hostComm]));
  const table = a.stalls?.stalls;
  const counted = (i: number): boolean => table!.kind[i] === 0 && table!.guestPid[i]! > 0;
  const shown = Math.max(0, s.maxStallDiagnostics);
  // One more than shown: where the summary of the rest goes.
  const longest = table?.longest(shown + 1, counted) ?? [];
  const ranked: Ranked[] = [];

  // What the program's other threads did meanwhile: asleep at a barrier (blocking waits) or on
  // their vCPUs (spinning waits), read from the guest timelines at the stall's start.
  const program = a.program;
  const spinning = program !== undefined && program.sleepShare < 0.1;
  const othersWaiting = (st: Stall): string => {
    if (program === undefined || rel === undefined || !program.pids.includes(st.guestPid))
      return '';
    const gt = a.guestTimelines.tasks;
    const at = rel.toGuest(st.hostStart);
    let n = 0;
    for (const pid of program.pids) {
      if (pid === st.guestPid) continue;
      const k = gt.indexOf.get(pid);
      if (k === undefined) continue;
      const j = taskIntervalAt(gt, k, at);
      if (j < 0) continue;
      const state = gt.state[j];
      if (spinning ? state === TaskState.running : state === TaskState.sleeping) n++;
    }
    if (n === 0) return '';
    return spinning
      ? `; ${n} other ${plainText(program.comm)} thread${n === 1 ? ' was' : 's were'} on their vCPUs meanwhile, spinning (the program waits actively)`
      : `; ${n} other ${plainText(program.comm)} thread${n === 1 ? ' was' : 's were'} asleep, waiting (at a barrier) for it`;
  };

  /** The line of a stall: the preempting switch on the host, the thread's own line on the guest. */
  const stallLine = (st: Stall): number => {
    let i: number;
    if (side === 'host') {
      i = eventAtOrAfter(t, st.hostStart);
      // The preempting switch: on the pCPU the vCPU left, at that instant.
      for (let j = i; j < t.events.length && t.events.ts(j) <= st.hostStart; j++) {
        if (t.events.cpu(j) === st.pcpu && kindAt(t, j) === Kind.schedSwitch) {
          i = j;
          break;
        }
      }
    } else i = threadEventNear(d, st.guestPid, st.vcpu, rel!.toGuest(st.hostStart));
    return i < d.lines.length ? d.lines[i]! - 1 : -1;
  };

  const absences = a.guestOnly?.absence.table;
  longest.slice(0, shown).forEach((st) => {
    const line = stallLine(st);
    if (line < 0) return;
    if (absences !== undefined) {
      const lost = dur(st.hostEnd - st.hostStart);
      ranked.push({
        line,
        cost: st.hostEnd - st.hostStart,
        diagnostic: {
          range: lineRange(line),
          severity: sev,
          code: 'vcpu-absent',
          source: 'vcpu-lens',
          message: `guest thread ${plainText(st.guestComm)}-${st.guestPid} on CPU ${st.vcpu} lost ${lost}: its vCPU was absent (inferred from this guest trace alone: no host trace says what ran instead)${absenceWords(absences, st.vcpu, st.hostStart, st.hostEnd, dur)}${othersWaiting(st)}`,
          // The guest CPU's lane: the absence drawn hatched over what the guest ran there.
          data: target(st.hostStart, st.hostEnd, laneId.guestCpu(st.vcpu)),
        },
      });
      return;
    }
    const who = `${plainText(st.preemptorComm)}-${st.preemptorPid}`;
    const guest = `${plainText(st.guestComm)}-${st.guestPid}`;
    const vcpuThread = hostComm.get(st.vcpu);
    const lost = dur(st.hostEnd - st.hostStart);
    ranked.push({
      line,
      cost: st.hostEnd - st.hostStart,
      diagnostic: {
        range: lineRange(line),
        severity: sev,
        code: 'vcpu-preempted',
        source: 'vcpu-lens',
        message:
          side === 'host'
            ? `vCPU ${st.vcpu} (${vcpuThread !== undefined ? plainText(vcpuThread) : 'vCPU thread'}) preempted for ${lost} by ${who} on CPU ${st.pcpu}, while guest thread ${guest} was on it: that thread lost ${lost}${othersWaiting(st)}`
            : `guest thread ${guest} on CPU ${st.vcpu} lost ${lost}: the host preempted its vCPU for ${who}${othersWaiting(st)}`,
        data: target(st.hostStart, st.hostEnd, laneId.vcpu(st.vcpu)),
      },
    });
  });

  // The rest of the preemptions, counted once, on the line of the longest not shown.
  const next = longest[shown];
  if (table !== undefined && next !== undefined) {
    let n = 0;
    let total = 0;
    for (let i = 0; i < table.length; i++)
      if (counted(i)) {
        n++;
        total += table.hostEnd[i]! - table.hostStart[i]!;
      }
    const line = stallLine(next);
    const more = n - Math.min(shown, longest.length);
    if (line >= 0 && more > 0)
      ranked.push({
        line,
        cost: next.hostEnd - next.hostStart,
        diagnostic: {
          range: lineRange(line),
          severity: DiagnosticSeverity.Information,
          code: MORE_PREEMPTIONS,
          source: 'vcpu-lens',
          message: `… and ${formatCount(more)} more ${absences !== undefined ? 'inferred vCPU absences' : 'vCPU preemptions'} while a guest thread was on the vCPU (all ${formatCount(n)} together: ${dur(total)}); the next longest here, ${dur(next.hostEnd - next.hostStart)} (vCPU ${next.vcpu}). The setting vcpuLens.maxStallDiagnostics shows more one by one.`,
          data: target(
            next.hostStart,
            next.hostEnd,
            absences !== undefined ? laneId.guestCpu(next.vcpu) : laneId.vcpu(next.vcpu),
          ),
        },
      });
  }

  for (const f of a.findings) {
    const at = side === 'host' ? f.start : rel!.toGuest(f.start);
    const i = Math.min(eventAtOrAfter(t, at), d.lines.length - 1);
    if (i < 0) continue;
    const line = d.lines[i]! - 1;
    const vcpu = f.evidence['vcpu'];
    ranked.push({
      line,
      cost: findingCost(f),
      diagnostic: {
        range: lineRange(line),
        severity: sev,
        code: f.kind,
        source: 'vcpu-lens',
        message: plainText(
          a.guestOnly !== undefined
            ? `inferred from this guest trace alone ("preempted or waiting" is inferred vCPU absence, the host CPUs an estimate): ${f.message}`
            : f.message,
          MAX_MESSAGE,
        ),
        data: target(
          f.start,
          f.end,
          typeof vcpu !== 'number'
            ? undefined
            : a.guestOnly !== undefined
              ? laneId.guestCpu(vcpu)
              : laneId.vcpu(vcpu),
        ),
      },
    });
  }

  // Ranked by the time they cost: the costliest few keep the configured severity.
  ranked.sort((x, y) => y.cost - x.cost);
  ranked.forEach((r, k) => {
    if (k >= TOP_WARNINGS && r.diagnostic.code !== MORE_PREEMPTIONS)
      r.diagnostic.severity = Math.max(sev, DiagnosticSeverity.Information) as DiagnosticSeverity;
  });
  return [...missingEvents(a), ...mergeByLine(ranked)];
}

/**
 * A guest trace alone that lacks the tick and timer events: nothing shows when its vCPUs were
 * absent, so nothing was inferred; VL1017 on its first line names what to record (as the CLI).
 */
function missingEvents(a: PairAnalysis): Diagnostic[] {
  const missing = a.guestOnly?.absence.missing ?? [];
  if (missing.length === 0) return [];
  return [
    {
      range: lineRange(0),
      severity: DiagnosticSeverity.Warning,
      code: DIAG.guestOnlyNoTimers,
      source: 'vcpu-lens',
      message: `no host trace and this guest trace has no ${missing.join(', ')}: nothing shows when its vCPUs were absent, so none is inferred (no stalls, findings or advice). Record the guest with: ${ABSENCE_RECORD_HINT} (docs/guest-only.md)`,
    },
  ];
}

/**
 * What the inferred absence(s) of `vcpu` over [start, end) rest on: the one overlapping it most,
 * its evidence, confidence and how uncertain its start is.
 */
function absenceWords(
  t: AbsenceTable,
  vcpu: number,
  start: number,
  end: number,
  dur: (v: number) => string,
): string {
  // The table is grouped by vCPU, each vCPU's intervals in time order and disjoint.
  const lo = partitionPoint(0, t.length, (j) => t.vcpu[j]! < vcpu);
  const hi = partitionPoint(lo, t.length, (j) => t.vcpu[j]! <= vcpu);
  let best = -1;
  let most = 0;
  let n = 0;
  for (let j = partitionPoint(lo, hi, (k) => t.end[k]! <= start); j < hi; j++) {
    if (t.start[j]! >= end) break;
    n++;
    const o = Math.min(end, t.end[j]!) - Math.max(start, t.start[j]!);
    if (o > most) [best, most] = [j, o];
  }
  if (best < 0) return '';
  const ev = ABSENCE_EVIDENCE_NAMES[t.evidence[best]!]!;
  const why =
    ev === 'late-timer'
      ? `a timer ran ${dur(t.end[best]! - t.latest[best]!)} after its expiry`
      : ev === 'late-tick'
        ? `the periodic tick came ${dur(t.end[best]! - t.latest[best]!)} late on a busy CPU`
        : `a thread woken onto the idle CPU ran ${dur(t.end[best]! - t.latest[best]!)} late`;
  return `; evidence: ${ev} (${why}), confidence ${t.confidence[best]!.toFixed(2)}, its start uncertain by ${dur(t.latest[best]! - t.earliest[best]!)}${n > 1 ? ` (${n} inferred absences in this stall)` : ''}`;
}

/** The time a finding says it cost (its evidence), in the host's unit; 0 when it says none. */
function findingCost(f: Finding): number {
  for (const k of COST_KEYS) {
    const v = f.evidence[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return 0;
}

/**
 * One diagnostic per line: several on one line become one message, the costliest first (its
 * code and interval kept), with the most severe of their severities.
 */
function mergeByLine(ranked: readonly Ranked[]): Diagnostic[] {
  const byLine = new Map<number, Diagnostic[]>();
  for (const r of ranked) {
    const list = byLine.get(r.line);
    if (list === undefined) byLine.set(r.line, [r.diagnostic]);
    else list.push(r.diagnostic);
  }
  const out: Diagnostic[] = [];
  for (const list of byLine.values()) {
    const first = list[0]!;
    if (list.length === 1) {
      out.push(first);
      continue;
    }
    out.push({
      ...first,
      severity: Math.min(
        ...list.map((x) => x.severity ?? DiagnosticSeverity.Hint),
      ) as DiagnosticSeverity,
      message: `${list.length} findings on this line:\n${list.map((x, k) => `${k + 1}. ${x.message}`).join('\n')}`,
    });
  }
  return out;
}

/**
 * The event of guest thread `pid` nearest before guest-relative `at` on guest CPU `cpu` (where it
 * ran when its vCPU was preempted): its own line. Else its first event after; else the first
 * event at or after `at`.
 */
function threadEventNear(d: ParsedDoc, pid: number, cpu: number, at: number): number {
  const t = d.trace;
  const i0 = eventAtOrAfter(t, at);
  const involves = (j: number): boolean => {
    if (t.tasks.pid(t.events.task(j)) === pid) return true;
    if (kindAt(t, j) !== Kind.schedSwitch) return false;
    const sw = switchAt(t, j);
    return t.tasks.pid(sw.next) === pid || t.tasks.pid(sw.prev) === pid;
  };
  for (let j = Math.min(i0, t.events.length - 1); j >= 0 && i0 - j <= THREAD_LINE_SEARCH; j--)
    if (t.events.cpu(j) === cpu && involves(j)) return j;
  for (let j = i0; j < t.events.length && j - i0 <= THREAD_LINE_SEARCH; j++)
    if (involves(j)) return j;
  return i0;
}

/**
 * Parse problems get a place in the timeline too: the time of the first event read at or after
 * their line (an instant; the timeline pads it), so "Show in Timeline" shows what surrounds a
 * line the reader could not take.
 */
export function placeInTimeline(
  diagnostics: Diagnostic[],
  d: ParsedDoc,
  a: PairAnalysis,
  side: 'host' | 'guest',
  pair: PairUris,
): void {
  const t = d.trace;
  if (t.events.length === 0 || d.lines.length === 0) return;
  const rel =
    a.clock !== undefined ? relativeMap(a.clock, a.guest.tsBase, a.host.tsBase) : undefined;
  if (side === 'guest' && rel === undefined) return;
  const origin = modelOrigin(a);
  for (const x of diagnostics) {
    if (x.data !== undefined) continue;
    const i = Math.min(lowerBound(d.lines, x.range.start.line + 1), d.lines.length - 1);
    const own = t.events.ts(i);
    const at = Math.round((side === 'host' ? own : rel!.toHost(own)) - origin);
    const place: RevealTarget = { ...pair, startNs: at, endNs: at + 1 };
    x.data = place;
  }
}
