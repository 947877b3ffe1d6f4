// The public text traces other people recorded (../shared/fixtures/peer, read in place): every
// scheduler event their lines print is decoded, none kept as text, and every perf sample is
// counted. The oracle is the text itself: how many lines name each event (the peer README's
// `grep -c`, less the `#` header lines perf writes, which name events too).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { Kind } from '../../src/core/model/event-kinds';
import type { Trace } from '../../src/core/model/trace';
import { SCHED } from '../../scripts/conformance-lib.mjs';
import { missing, PEER } from './support/fixtures';

const why = missing(PEER, '../shared/fixtures/peer');

interface PeerText {
  file: string;
  format: 'ftrace-text' | 'perf-script';
  /** Sample events (perf) whose lines must all be counted. */
  samples?: string[];
  /** Lines that are events, for a file with neither sched events nor samples. */
  allEvents?: number;
  /** Per-CPU views: off when some lines print no CPU. */
  cpusKnown: boolean;
}

const FILES: PeerText[] = [
  {
    file: 'ARM-software__lisa/tests__assets__trace_txt__trace.txt',
    format: 'ftrace-text',
    cpusKnown: true,
  },
  { file: 'ARM-software__trappy/tests__trace_sched.txt', format: 'ftrace-text', cpusKnown: true },
  {
    file: 'eclipse-tracecompass-incubator__org.eclipse.tracecompass.incubator/tracetypes__org.eclipse.tracecompass.incubator.ftrace.core.tests__res__trace-android-sched',
    format: 'ftrace-text',
    cpusKnown: true,
  },
  {
    file: 'eclipse-tracecompass-incubator__org.eclipse.tracecompass.incubator/tracetypes__org.eclipse.tracecompass.incubator.ftrace.core.tests__res__trace-func-graph',
    format: 'ftrace-text',
    allEvents: 199,
    cpusKnown: true,
  },
  {
    file: 'dspeyer__profiling/perf.scr',
    format: 'perf-script',
    samples: ['cycles'],
    cpusKnown: false,
  },
  {
    file: 'brendangregg__FlameGraph/example-perf-stacks.txt.gz',
    format: 'perf-script',
    samples: ['cycles'],
    cpusKnown: true,
  },
  {
    file: 'jlfwong__speedscope/sample__profiles__linux-perf__simple-with-pid.linux-perf.txt',
    format: 'perf-script',
    samples: ['cpu-clock'],
    cpusKnown: false,
  },
];

/** Lines (not `#` comments) that print `name` as an event: ` name:` or perf's `:name:`. */
function linesNaming(text: string, name: string): number {
  const re = new RegExp(`[ :]${name}: `);
  let n = 0;
  for (const line of text.split('\n')) if (!line.startsWith('#') && re.test(line + ' ')) n++;
  return n;
}

/** Decoded events per bare name, and the names of types kept as text. */
function counts(t: Trace): { decoded: Map<string, number>; undecoded: string[] } {
  const decoded = new Map<string, number>();
  const per = new Float64Array(t.eventTypes.length);
  for (let i = 0; i < t.events.length; i++) per[t.events.type(i)]!++;
  const undecoded: string[] = [];
  t.eventTypes.forEach((ty, id) => {
    if (ty.undecoded === true) undecoded.push(ty.name);
    if (ty.undecoded === true || per[id] === 0) return;
    const bare = ty.name.slice(ty.name.lastIndexOf(':') + 1);
    decoded.set(bare, (decoded.get(bare) ?? 0) + per[id]!);
  });
  return { decoded, undecoded };
}

describe('peer text traces: sched events decoded, samples counted', () => {
  for (const p of FILES) {
    it.skipIf(why)(`${p.file}${why ?? ''}`, async () => {
      const full = path.join(PEER, p.file);
      const raw = readFileSync(full);
      const text = (p.file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
      const r = await readTraceFile(full, { threads: 1 });
      expect(r.format).toBe(p.format);
      expect(r.traces).toHaveLength(1);
      const t = r.traces[0]!;
      const { decoded, undecoded } = counts(t);
      expect(undecoded).toEqual([]);
      for (const name of SCHED) {
        const kind = t.eventTypes.find((e) => e.name.endsWith(name) && e.undecoded !== true)?.kind;
        if (kind !== undefined) expect(kind).not.toBe(Kind.generic);
        expect({ name, n: decoded.get(name) ?? 0 }).toEqual({ name, n: linesNaming(text, name) });
      }
      for (const name of p.samples ?? [])
        expect({ name, n: decoded.get(name) ?? 0 }).toEqual({ name, n: linesNaming(text, name) });
      if (p.allEvents !== undefined) expect(t.events.length).toBe(p.allEvents);
      expect(t.header.eventsWithoutCpu === undefined).toBe(p.cpusKnown);
      // Nothing but the known per-file notes: no line refused, no field kept as text.
      const codes = new Set(t.diagnostics.map((d) => d.code));
      for (const c of codes) expect(['VL1004', 'VL1016']).toContain(c);
    });
  }

  it.skipIf(why)(
    `dspeyer perf.scr: 1,409 sched_switch and 731 sched_wakeup lines, all sched events${why ?? ''}`,
    async () => {
      const r = await readTraceFile(path.join(PEER, 'dspeyer__profiling/perf.scr'), { threads: 1 });
      const t = r.traces[0]!;
      const kinds = new Map<number, number>();
      for (let i = 0; i < t.events.length; i++) {
        const k = t.eventTypes[t.events.type(i)]!.kind;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
      expect(kinds.get(Kind.schedSwitch)).toBe(1409);
      expect(kinds.get(Kind.schedWakeup)).toBe(731);
      expect(t.diagnostics.filter((d) => d.code === 'VL1016')).toHaveLength(1);
    },
  );
});
