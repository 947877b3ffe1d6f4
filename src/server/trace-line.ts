// From a timeline interval back to its trace ("Reveal in Trace"): the trace its lane belongs to
// (host CPUs, host threads and vCPUs: the host; guest CPUs and threads: the guest) and the line
// of the event that begins it. A `.dat` has no lines: its `trace-cmd report` text does (one
// header line, then an event per line), served as `vcpuLens/datText`. A guest trace alone reveals
// only from the guest's lanes: its host is a model, with no lines.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { relativeMap } from '../core/correlate/clock-map';
import { writeTraceCmdText } from '../core/export/trace-cmd-text';
import { readTraceFile } from '../core/io/read-trace-file';
import { Kind } from '../core/model/event-kinds';
import { kindAt, switchAt } from '../core/model/payload';
import { partitionPoint } from '../core/model/search';
import type { Trace } from '../core/model/trace';
import { parseLaneId } from '../core/view/lane-id';
import { modelOrigin } from '../core/view/model';
import type { TraceLineParams, TraceLineResult } from '../protocol/lsp-ext';
import { filePath, type Server } from './context';
import { serverReadOptions } from './disk';

/** How far (in events) the event of a CPU or thread is looked for from the interval's start. */
const SEARCH = 200_000;

export async function traceLine(s: Server, p: TraceLineParams): Promise<TraceLineResult> {
  const a = await s.analysisFor(p.uri);
  if (a === undefined) return { ok: false, message: 'no pair for this trace' };
  const lane = parseLaneId(p.lane);
  if (lane === undefined) return { ok: false, message: `not a lane: ${p.lane}` };
  const an = a.analysis;
  const hostRel = p.startNs + modelOrigin(an);
  const onHost = lane.kind === 'hcpu' || lane.kind === 'hthread' || lane.kind === 'vcpu';
  // Guest-only: the host is a model of the guest's inferred absences, with no lines to open.
  if (onHost && a.guestOnly === true)
    return {
      ok: false,
      message:
        lane.kind === 'vcpu'
          ? `vCPU ${lane.n}'s lane is inferred from the guest trace alone (no host trace): reveal from guest CPU ${lane.n}'s lane`
          : 'no host trace: this lane is inferred from the guest trace alone',
    };
  let at = hostRel;
  if (!onHost) {
    if (an.clock === undefined) return { ok: false, message: 'no clock map to the guest' };
    at = relativeMap(an.clock, an.guest.tsBase, an.host.tsBase).toGuest(hostRel);
  }
  const t = onHost ? an.host : an.guest;
  let i: number;
  if (lane.kind === 'hcpu' || lane.kind === 'gcpu')
    i = eventNear(t, at, (j) => t.events.cpu(j) === lane.n);
  else {
    const pid =
      lane.kind === 'vcpu'
        ? an.vcpuMap.chosen?.vcpus.find((v) => v.vcpu === lane.n)?.hostTid
        : lane.n;
    if (pid === undefined) return { ok: false, message: `no host thread for vCPU ${lane.n}` };
    i = eventNear(t, at, (j) => involves(t, j, pid));
  }
  if (i < 0) return { ok: false, message: 'no event there' };
  const uri = onHost ? a.hostUri : a.guestUri;
  if (t.format === 'trace-cmd-dat') return { ok: true, uri, line: i + 1, dat: true };
  const line = t.eventLines?.[i];
  if (line === undefined) return { ok: false, message: 'this trace was read without its lines' };
  return { ok: true, uri, line: line - 1, dat: false };
}

/** A `.dat` (or any trace the server reads) as `trace-cmd report` text. */
export async function datText(s: Server, uri: string): Promise<string | null> {
  const file = filePath(uri);
  if (file === undefined || !existsSync(file)) return null;
  // The trace the server keeps has only the event text its analysis reads (disk.ts): the report
  // prints every event's, so it reads the file again, whole, for this; the same settings, so
  // the same events on the same lines as the kept trace's (traceLine's `dat` lines).
  const r = await readTraceFile(file, {
    ...serverReadOptions(s, path.basename(file)),
    eventText: true,
  });
  const trace = r.traces[0];
  if (trace === undefined) return null;
  const parts: string[] = [];
  writeTraceCmdText(trace, (c) => parts.push(c));
  return parts.join('');
}

/** Whether event `j` is of thread `pid`, or switches it in or out. */
function involves(t: Trace, j: number, pid: number): boolean {
  if (t.tasks.pid(t.events.task(j)) === pid) return true;
  if (kindAt(t, j) !== Kind.schedSwitch) return false;
  const sw = switchAt(t, j);
  return t.tasks.pid(sw.next) === pid || t.tasks.pid(sw.prev) === pid;
}

/**
 * The first event `match` accepts at or after `at` (less one unit: model times are rounded),
 * else the last before it; -1 when none is near.
 */
function eventNear(t: Trace, at: number, match: (j: number) => boolean): number {
  const n = t.events.length;
  const i0 = partitionPoint(0, n, (j) => t.events.ts(j) < at - 1);
  for (let j = i0; j < n && j - i0 <= SEARCH; j++) if (match(j)) return j;
  for (let j = i0 - 1; j >= 0 && i0 - j <= SEARCH; j--) if (match(j)) return j;
  return -1;
}
