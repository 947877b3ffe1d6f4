// Writing .dat v7: what we write reads back to the same events (uncompressed and zlib), and
// trace-cmd report prints it as our own text output prints the trace (when trace-cmd is installed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTraceCmdText } from '../../src/core/export/trace-cmd-text';
import { writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import type { Trace } from '../../src/core/model/trace';
import { PRESETS } from '../../src/core/sim/presets';
import { simulateTraces } from '../../src/core/sim/record';
import { absTs, fieldsStr, taskStr } from './support/dump';

const TRACE_CMD = spawnSync('trace-cmd', ['list', '-c'], { encoding: 'utf8' }).status === 0;
if (!TRACE_CMD) console.warn('trace-cmd is not installed: the trace-cmd report checks are skipped');
const FORMATS = path.resolve(__dirname, '../fixtures/formats');

// Events the scheduler fixtures lack: markers, kvm, syscalls, an unknown event, a fork and exit.
const EXTRA = `cpus=2
       trace-cmd-3357  [001]  100.000001: print:                tracing_mark_write: lab: start
 qemu-system-x86-3310  [000]  100.000002: kvm_exit:             vcpu 1 reason HLT rip 0xffffffff8104c8f6 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
 qemu-system-x86-3310  [000]  100.000003: kvm_entry:            vcpu 1, rip 0xffffffff8104c8f6
       CPU 2/TCG-3317  [001]  100.000004: sys_enter_writev:     fd: 0x00000009, vec: 0x7f3a1dff9ca0, vlen: 0x00000001
       CPU 2/TCG-3317  [001]  100.000005: sys_exit_writev:      0x1
            bash-900   [000]  100.000006: sched_process_fork:   comm=bash pid=900 child_comm=bash child_pid=901
            bash-901   [001]  100.000007: sched_prepare_exec:   interp=/bin/ls filename=/bin/ls pid=901 comm=bash
            bash-901   [001]  100.000008: sched_process_exit:   comm=bash pid=901 prio=120 group_dead=true
          <idle>-0     [000]  100.200000: sched_wakeup:         bash:901 [120] CPU:000
`;

function text(t: Trace): string {
  let s = '';
  writeTraceCmdText(t, (x) => (s += x));
  return s;
}

/**
 * Event lines, whitespace-normalised and in (time, CPU) order: a .dat keeps each CPU's order but
 * not the order of equal timestamps across CPUs (readers merge ties to the lower CPU). trace-cmd's
 * sched plugin prints a preempted task's state (`R+`) as `R` and the idle state (`I`) as `W`.
 */
function canon(s: string): string[] {
  const rows = s
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^\s*cpus=/.test(l))
    .map((l) =>
      l
        .replace(/\s+/g, ' ')
        .trim()
        .replace(/ R\+ ==> /, ' R ==> ')
        .replace(/ I ==> /, ' W ==> '),
    );
  const key = (l: string): [string, string] => {
    const m = /\[(\d+)\]\s*([\d.]+):/.exec(l)!;
    return [m[2]!.padStart(24, '0'), m[1]!];
  };
  return rows
    .map((l, i) => ({ l, i, k: key(l) }))
    .sort((a, b) =>
      a.k[0] < b.k[0] ? -1 : a.k[0] > b.k[0] ? 1 : Number(a.k[1]) - Number(b.k[1]) || a.i - b.i,
    )
    .map((r) => r.l);
}

/** The model events as strings, in (time, CPU) order, with the exact timestamps. */
function events(t: Trace): string[] {
  const out: { k: bigint; c: number; s: string }[] = [];
  for (let i = 0; i < t.events.length; i++) {
    const s = `${absTs(t, i)} ${t.events.cpu(i)} ${t.eventTypes[t.events.type(i)]!.name} ${taskStr(t, t.events.task(i))} ${fieldsStr(
      t,
      i,
    )
      .replace(/state=R\+ /, 'state=R ')
      .replace(/state=I /, 'state=W ')}`;
    out.push({ k: absTs(t, i), c: t.events.cpu(i), s });
  }
  return out.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.c - b.c)).map((x) => x.s);
}

const sim = simulateTraces({ ...PRESETS['small']!.config, ...PRESETS['small']!.coRunner });
const INPUTS: { name: string; trace: Trace }[] = [
  { name: 'simulated host', trace: sim.host },
  { name: 'simulated guest', trace: sim.guest },
  {
    name: 'trace-cmd 3.1 text',
    trace: importFtraceText(readFileSync(path.join(FORMATS, 'trace-cmd-3.1-local.txt'), 'utf8'), {
      name: 'a',
    })[0]!,
  },
  {
    name: 'tracefs raw text',
    trace: importFtraceText(readFileSync(path.join(FORMATS, 'tracefs-raw-host.txt'), 'utf8'), {
      name: 'b',
    })[0]!,
  },
  { name: 'markers, kvm, syscalls', trace: importFtraceText(EXTRA, { name: 'c' })[0]! },
];

describe('.dat v7 writer', () => {
  it.each(INPUTS)('$name reads back to the same events (uncompressed)', ({ trace }) => {
    const back = importTraceDat(writeTraceDat(trace), {
      name: 'w.dat',
      decompressors: nodeDecompressors,
    });
    expect(back.length).toBe(1);
    expect(back[0]!.diagnostics).toEqual([]);
    expect(back[0]!.cpuCount).toBe(trace.cpuCount);
    expect(events(back[0]!)).toEqual(events(trace));
  });

  it.each(INPUTS)('$name reads back to the same events (zlib)', ({ trace }) => {
    const bytes = writeTraceDat(trace, {
      compression: 'zlib',
      deflate: (b) => deflateSync(b),
      chunkPages: 1,
    });
    const back = importTraceDat(bytes, { name: 'w.dat', decompressors: nodeDecompressors })[0]!;
    expect(back.dat).toMatchObject({ fileVersion: 7, compression: 'zlib' });
    expect(events(back)).toEqual(events(trace));
  });

  it('writes a time extend when events are more than 2^27 ns apart', () => {
    const t = importFtraceText(EXTRA, { name: 'c' })[0]!;
    // The last event is 0.2 s after the others: more than 2^27 ns (0.134 s).
    const back = importTraceDat(writeTraceDat(t), {
      name: 'w.dat',
      decompressors: nodeDecompressors,
    })[0]!;
    expect(absTs(back, back.events.length - 1)).toBe(100_200_000_000n);
  });
});

describe.skipIf(!TRACE_CMD)('trace-cmd report reads what we write', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-datw-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.each(INPUTS)('$name: same events as our text output', ({ name, trace }) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-')}.dat`);
    writeFileSync(file, writeTraceDat(trace));
    // Full ns for the simulator (it prints 9 digits), trace-cmd's default microseconds otherwise.
    const ns = trace.clock.unit === 'ns' && trace.clock.resolution === 1;
    const r = spawnSync('trace-cmd', ['report', ...(ns ? ['-t'] : []), file], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    expect(r.status).toBe(0);
    expect(canon(r.stdout)).toEqual(canon(text(trace)));
    // And our reader prints what trace-cmd prints.
    const back = importTraceDat(readFileSync(file), {
      name: 'w.dat',
      decompressors: nodeDecompressors,
    })[0]!;
    if (!ns) expect(text(back)).toBe(r.stdout);
  });
});

describe('.dat files on disk', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-datf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const trace = INPUTS[2]!.trace;
  const bytes = writeTraceDat(trace);

  it('readTraceFile sniffs a .dat by content (any name) and reads it as from memory', async () => {
    const file = path.join(dir, 'renamed.txt');
    writeFileSync(file, bytes);
    const r = await readTraceFile(file);
    expect(r.format).toBe('trace-cmd-dat');
    expect(r.diagnostics).toEqual([]);
    expect(r.traces.length).toBe(1);
    const mem = importTraceDat(bytes, {
      name: 'renamed.txt',
      decompressors: nodeDecompressors,
    })[0]!;
    expect(text(r.traces[0]!)).toBe(text(mem));
  });

  it('a .dat cut short on disk loads the events before the cut, with the offset', async () => {
    const file = path.join(dir, 'cut.dat');
    // Cut inside the per-CPU data: the trailing BUFFER options are gone, the pages before stay.
    const full = importTraceDat(bytes, { name: 'x', decompressors: nodeDecompressors })[0]!;
    writeFileSync(file, bytes.subarray(0, bytes.length - 2500));
    const r = await readTraceFile(file);
    const t = r.traces[0]!;
    expect(t.diagnostics.some((d) => d.code === 'VL1013' && typeof d.offset === 'number')).toBe(
      true,
    );
    expect(t.events.length).toBeGreaterThan(0);
    expect(t.events.length).toBeLessThanOrEqual(full.events.length);
    // Recovered without the BUFFER options, CPU streams are numbered in file order (empty CPUs
    // leave no trace), so compare the events without their CPU.
    const noCpu = (s: string): string[] =>
      s
        .split('\n')
        .slice(1, -1)
        .map((l) => l.replace(/\[\d+\]/, '[]'));
    const all = new Set(noCpu(text(full)));
    for (const l of noCpu(text(t))) expect(all.has(l), l).toBe(true);
  });
});

describe('byte order and long size', () => {
  const LAYOUTS = [
    { bigEndian: true, longSize: 8 as const },
    { bigEndian: false, longSize: 4 as const },
    { bigEndian: true, longSize: 4 as const },
  ];
  const cases = LAYOUTS.flatMap((l) => [INPUTS[2]!, INPUTS[4]!].map((i) => ({ ...l, ...i })));
  it.each(cases)(
    '$name, big endian $bigEndian, $longSize-byte longs: reads back to the same events',
    ({ trace, bigEndian, longSize }) => {
      const bytes = writeTraceDat(trace, { bigEndian, longSize });
      const back = importTraceDat(bytes, { name: 'w.dat', decompressors: nodeDecompressors })[0]!;
      expect(back.diagnostics).toEqual([]);
      expect(events(back)).toEqual(events(trace));
    },
  );

  describe.skipIf(!TRACE_CMD)('and trace-cmd report agrees', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-datbe-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    it.each(cases)(
      '$name, big endian $bigEndian, $longSize-byte longs: trace-cmd report prints what we print',
      ({ trace, bigEndian, longSize }) => {
        const file = path.join(dir, `be${bigEndian}-l${longSize}.dat`);
        writeFileSync(file, writeTraceDat(trace, { bigEndian, longSize }));
        const r = spawnSync('trace-cmd', ['report', file], { encoding: 'utf8' });
        expect(r.status).toBe(0);
        const back = importTraceDat(readFileSync(file), {
          name: 'w.dat',
          decompressors: nodeDecompressors,
        })[0]!;
        expect(text(back)).toBe(r.stdout);
        expect(canon(r.stdout)).toEqual(canon(text(trace)));
      },
    );
  });
});

describe('timestamps as trace-cmd report prints them', () => {
  const g = sim.guest;
  const a = g.tsBase;
  const b = g.tsBase + BigInt(g.events.ts(g.events.length - 1));
  const m = (a + b) / 2n;
  const tsc = importFtraceText(readFileSync(path.join(FORMATS, 'trace-cmd-3.1-tsc.txt'), 'utf8'), {
    name: 't',
    clock: 'x86-tsc',
  })[0]!;
  const shift = (
    flags: number,
    times: bigint[],
    offsets: bigint[],
    scaling = 1n,
    fraction = 0,
  ) => ({
    timeShift: {
      peerTraceId: 7n,
      flags,
      cpus: Array.from({ length: g.cpuCount }, (_, c) => ({
        times,
        offsets: offsets.map((o) => o + BigInt(c)),
        scalings: times.map(() => scaling),
        fractions: times.map(() => fraction),
      })),
    },
  });
  const CASES: { name: string; trace: Trace; opts: Parameters<typeof writeTraceDat>[1] }[] = [
    { name: 'TIME_SHIFT, one sample', trace: g, opts: shift(0, [a], [123456789n]) },
    {
      name: 'TIME_SHIFT, interpolated',
      trace: g,
      opts: shift(1, [a, m, b], [1000000n, 3000777n, -5000333n]),
    },
    {
      name: 'TIME_SHIFT, stepwise',
      trace: g,
      opts: shift(0, [a, m, b], [1000000n, 3000777n, -5000333n]),
    },
    {
      name: 'TIME_SHIFT, scaled',
      trace: g,
      opts: shift(1, [a, b], [-4000n, 9000n], 4294967297n, 32),
    },
    {
      name: 'TSC2NSEC',
      trace: tsc,
      opts: { tsc2nsec: { mult: 1717986918, shift: 32, offset: 0n } },
    },
  ];

  it('a guest TIME_SHIFT of one sample shifts every printed timestamp, the model keeps the recorded ones', () => {
    const back = importTraceDat(writeTraceDat(g, CASES[0]!.opts), {
      name: 'x',
      decompressors: nodeDecompressors,
    })[0]!;
    expect(events(back)).toEqual(events(g));
    const first = text(back).split('\n')[1]!;
    const cpu = back.events.cpu(0);
    const want = absTs(back, 0) + 123456789n + BigInt(cpu);
    const us = (want + 500n) / 1000n;
    expect(first).toContain(` ${us / 1000000n}.${String(us % 1000000n).padStart(6, '0')}: `);
  });

  describe.skipIf(!TRACE_CMD)('and trace-cmd agrees', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-datts-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    it.each(CASES)('$name: dump equals trace-cmd report', ({ name, trace, opts }) => {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.dat`);
      writeFileSync(file, writeTraceDat(trace, opts));
      const r = spawnSync('trace-cmd', ['report', file], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      const back = importTraceDat(readFileSync(file), {
        name: 'x',
        decompressors: nodeDecompressors,
      })[0]!;
      expect(text(back)).toBe(r.stdout);
    });
  });
});

describe('merging many CPUs', () => {
  it('48 CPUs with tied timestamps come back in (time, CPU) order, every event once', () => {
    const lines = ['cpus=48'];
    let x = 12345;
    const rnd = (n: number): number => (x = (x * 1103515245 + 12345) % 2147483648) % n;
    for (let i = 0; i < 3000; i++) {
      const cpu = rnd(48);
      const us = 1_000_000 + rnd(400) * 10; // many ties across CPUs
      const t = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
      lines.push(
        `          task-${100 + cpu}   [${String(cpu).padStart(3, '0')}]   ${t}: sched_waking:         comm=w pid=${i + 1000} prio=120 target_cpu=${String(cpu).padStart(3, '0')}`,
      );
    }
    // The text must list each CPU's events in time order, as a ring buffer does.
    const body = lines.slice(1).map((l, i) => ({
      l,
      i,
      cpu: Number(/\[(\d+)\]/.exec(l)![1]),
      t: /\]\s+([\d.]+):/.exec(l)![1]!,
    }));
    body.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.i - b.i));
    const t = importFtraceText(['cpus=48', ...body.map((r) => r.l)].join('\n') + '\n', {
      name: 'm',
    })[0]!;
    const back = importTraceDat(writeTraceDat(t), {
      name: 'w.dat',
      decompressors: nodeDecompressors,
    })[0]!;
    expect(back.events.length).toBe(3000);
    expect(events(back)).toEqual(events(t));
    for (let i = 1; i < back.events.length; i++) {
      const a = absTs(back, i - 1);
      const b = absTs(back, i);
      expect(
        a < b ||
          (a === b && back.events.cpu(i - 1) < back.events.cpu(i)) ||
          (a === b && back.events.cpu(i - 1) === back.events.cpu(i)),
      ).toBe(true);
    }
  });
});
