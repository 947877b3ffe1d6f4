// Streaming: an importer fed any split of its input (two chunks cut at every offset, single
// characters, tiny file reads) produces the same canonical dump as when fed the whole text, and
// the format is sniffed from the content alone (the name is hidden).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createFtraceTextImporter } from '../../src/core/ingest/ftrace-text';
import { importText, sniffText } from '../../src/core/ingest/index';
import type { TextImporter } from '../../src/core/ingest/importer';
import { createPerfScriptImporter } from '../../src/core/ingest/perf-script';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import type { Trace } from '../../src/core/model/trace';
import { dumpTrace } from './support/dump';

// Raw tracefs text: header, TGID-less lines with 4- and 5-character irq-info (hex digits too),
// comms with spaces/dashes/colons, syscalls, markers, a lost-events line, CRLF lines, a non-ASCII
// comm, a bad line, a mangled sched_switch and a last line cut short.
const RAW = [
  '# tracer: nop\n',
  '#\n',
  '# entries-in-buffer/entries-written: 22/24   #P:2\n',
  '#\n',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n',
  '#              | |         |   |||||     |         |\n',
  '         python3-3269    [001] .....  5078.900209: sched_process_fork: comm=python3 pid=3269 child_comm=python3 child_pid=3444\n',
  '         python3-3269    [001] d..2.  5078.900217: sched_stat_runtime: comm=cpuhog pid=3443 runtime=3606328 [ns]\n',
  '         python3-3269    [001] d..2.  5078.900226: sched_wakeup_new: comm=python3 pid=3444 prio=120 target_cpu=000\n',
  '          <idle>-0       [000] d..2.  5078.900230: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=python3 next_pid=3444 next_prio=120\n',
  '            perf-3444    [000] dNs4.  5078.908623: sched_migrate_task: comm=rcu_preempt pid=15 prio=120 orig_cpu=1 dest_cpu=0\n',
  '     kworker/0:1-17      [000] d..2.  5078.908700: sched_stat_runtime: comm=kworker/0:1 pid=17 runtime=1420865 [ns] vruntime=216693839587 [ns]\n',
  'CPU:1 [LOST 2 EVENTS]\n',
  ' kworker/u8:5-kv-30173   [001] d..2.  5079.340830: sched_switch: prev_comm=kworker/u8:5 prev_pid=30173 prev_prio=120 prev_state=I ==> next_comm=CPU 0/TCG next_pid=3315 next_prio=120\n',
  '       CPU 0/TCG-3315    [001] d..1f  5079.340900: sched_waking: comm=qemu-system-x86 pid=3310 prio=120 target_cpu=000\n',
  '       CPU 0/TCG-3315    [001] d.h3a  5079.340950: sched_stat_runtime: comm=CPU 0/TCG pid=3315 runtime=52880 [ns]\n',
  '       CPU 1/TCG-3316    [000] .....  5082.398847: sys_writev(fd: 9, vec: 0x7f3a1e7faca0, vlen: 1)\n',
  '       CPU 1/TCG-3316    [000] .....  5082.398934: sys_writev -> 0x1\n',
  '         python3-3269    [001] ...1.  5082.400000: tracing_mark_write: lab-host: raw-noisy-passive send RUN to guest\n',
  'this line is not an event\n',
  '       CPU 0/TCG-3315    [001] d..2.  5089.056633: sched_switch: prev_comm=CPU 0/TCG prev_pid=3315 prev_prio=120 prev_state=R+ ==> next_comm=cpuhog next_pid=3442 next_prio=120\r\n',
  '          cpuhog-3442    [001] d..2   5089.056700: sched_switch: prev_comm=cpuhog prev_pid=3442 prev_prio=120 prev_state=R+ ==> next_comm=kworker/1:1 next_pid=41 next_prio=120\r\n',
  '     kworker/1:1-41      [001] d..2.  5089.056800: sched_switch: prev_comm=kworker/1:1 prev_pid=41 prev_prio=120 prev_state=W --> next_comm=cpuhog next_pid=3442 next_prio=120\n',
  '   wörker-ünï-4000       [000] .....  5090.000000: tracing_mark_write: marker ✓ done\n',
  '            perf-3445    [001] .....  5097.288750: sched_process_exit: comm=perf pid=3445 prio=120 group_dead=false\n',
  '          cpuhog-3442    [001] ..s..  5097.304665: sched_process_free: comm=perf pid=3445 prio=120\n',
  '             cat-612     [001] .....  5097.476261: sched_process_exec: filename=/usr/bin/cat pid=612 old_pid=612\n',
  '          <idle>-0       [000] d..2.  5097.6',
].join('');

// trace-cmd report with two inputs (file-name prefixes), integer clocks, the 3.3+ latency column
// glued to the timestamp, a drop marker and empty-CPU lines.
const TRACE_CMD = [
  'version = 6\n',
  ' host.dat: cpus=2\n',
  'guest.dat: cpus=4\n',
  'CPU 3 is empty\n',
  ' host.dat:        trace-cmd-3367  [001] d..2.12093835164436: sched_switch:         trace-cmd:3367 [120] S ==> trace-cmd:3374 [120]\n',
  'guest.dat:        trace-cmd-414   [002] d..2.602907987865: sched_switch:         trace-cmd:414 [120] S ==> trace-cmd:440 [120]\n',
  ' host.dat:           <idle>-0     [001] d..2.12093840971058: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001\n',
  ' host.dat:           <idle>-0     [001] d..3.12093840989801: sched_wakeup:         rcu_preempt:15 [120] CPU:001\n',
  'guest.dat:           <...>-437   [000] d..2.602930784110: sched_switch:         trace-cmd:437 [120] S ==> swapper/0:0 [120]\n',
  'CPU:1 [12 EVENTS DROPPED]\n',
  ' host.dat:        CPU 0/TCG-3315  [000] d..2.12093841121537: sched_switch:         CPU 0/TCG:3315 [120] R+ ==> swapper/0:0 [120]\r\n',
  'guest.dat:     guest_run.sh-528   [003] .....602931091438: sched_process_fork:   comm=guest_run.sh pid=528 child_comm=guest_run.sh child_pid=559\n',
  ' host.dat:         python3-3269  [001] ...1.12093857987974: print:                tracing_mark_write: lab-host: quiet-passive-tsc host_trace_started\n',
  'guest.dat:     kworker/2:0-25    [002] d..2.602931526044: sched_migrate_task:   comm=ksoftirqd/3 pid=31 prio=120 orig_cpu=3 dest_cpu=2\n',
].join('');

const PERF = [
  '# ========\n',
  '# captured on    : Thu Jan  1 00:00:00 2026\n',
  '# ========\n',
  '#\n',
  '            perf  3444 [000]  5079.325780: sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]\n',
  '            perf  3444 [000]  5079.325791:       sched:sched_waking: comm=migration/0 pid=18 prio=0 target_cpu=000\n',
  '            perf  3444 [000]  5079.325810:       sched:sched_switch: prev_comm=perf prev_pid=3444 prev_prio=120 prev_state=D ==> next_comm=migration/0 next_pid=18 next_prio=0\n',
  '     migration/0    18 [000]  5079.325823: sched:sched_migrate_task: comm=perf pid=3444 prio=120 orig_cpu=0 dest_cpu=1\n',
  '         swapper     0 [000]  5079.328801:       sched:sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=cpuhog next_pid=3442 next_prio=120\n',
  ' kworker/u8:5-kv 30173 [000]  5079.340824: sched:sched_stat_runtime: comm=kworker/u8:5 pid=30173 runtime=52880 [ns]\n',
  '       CPU 0/TCG  3310/3315 [000]  5079.499613:       sched:sched_waking: comm=qemu-system-x86 pid=3310 prio=120 target_cpu=000\r\n',
  '            perf  3444  5079.500000: sched:sched_stat_runtime: comm=perf pid=3444 runtime=17614 [ns]\n',
  '            perf  3444 [001]  5079.500100:          1 sched:sched_stat_runtime: comm=perf pid=3444 runtime=11622 [ns]\n',
  'Warning: this is not an event\n',
  '          cpuhog  3442 [001]  5089.056633:       sched:sched_switch: prev_comm=cpuhog prev_pid=3442 prev_prio=120 prev_state=R+ --> next_comm=CPU 3/TCG next_pid=3318 next_prio=120\n',
  ' qemu-system-x86  3310 [001]  5080.900057: sched:sched_process_fork: comm=qemu-system-x86 pid=3310 child_comm=qemu-system-x86 child_pid=3446\n',
  ' qemu-system-x86  3310 [001]  5080.900065:   sched:sched_wakeup_new: comm=qemu-system-x86 pid=3446 prio=120 target_cpu=001\n',
  '       CPU 2/TCG  3317 [001]  5090.000000:       sched:sched_switch: prev_comm=CPU 2/TCG prev_pid=3317 prev_prio=120 prev_sta',
].join('');

type Make = () => TextImporter;

const SAMPLES: {
  name: string;
  src: string;
  make: Make;
  format: 'ftrace-text' | 'perf-script';
  traces: number;
  events: number;
}[] = [
  {
    name: 'raw tracefs',
    src: RAW,
    make: () => createFtraceTextImporter({ name: 's' }),
    format: 'ftrace-text',
    traces: 1,
    events: 19,
  },
  {
    name: 'trace-cmd multi-input',
    src: TRACE_CMD,
    make: () => createFtraceTextImporter({ name: 's' }),
    format: 'ftrace-text',
    traces: 2,
    events: 9,
  },
  {
    name: 'perf sched script',
    src: PERF,
    make: () => createPerfScriptImporter({ name: 's' }),
    format: 'perf-script',
    traces: 1,
    events: 13,
  },
];

function dumpAll(traces: Trace[]): string {
  return traces.map(dumpTrace).join('\n---\n');
}

function feedAll(make: Make, chunks: string[]): string {
  const imp = make();
  for (const c of chunks) imp.feed(c);
  return dumpAll(imp.end());
}

describe.each(SAMPLES)('$name sample', ({ src, make, format, traces, events }) => {
  const whole = feedAll(make, [src]);

  it('is what the sample is meant to be (sanity of the reference)', () => {
    const imp = make();
    imp.feed(src);
    const ts = imp.end();
    expect(ts).toHaveLength(traces);
    expect(ts.reduce((n, t) => n + t.events.length, 0)).toBe(events);
  });

  it('gives the same dump when split into two chunks at every offset', () => {
    const mismatches: number[] = [];
    for (let at = 0; at <= src.length; at++) {
      if (feedAll(make, [src.slice(0, at), src.slice(at)]) !== whole) mismatches.push(at);
    }
    expect(mismatches).toEqual([]);
  });

  it('gives the same dump fed one character at a time', () => {
    expect(feedAll(make, Array.from(src))).toBe(whole);
  });

  it('gives the same dump fed in 7-character chunks', () => {
    const chunks: string[] = [];
    for (let i = 0; i < src.length; i += 7) chunks.push(src.slice(i, i + 7));
    expect(feedAll(make, chunks)).toBe(whole);
  });

  it(`is sniffed as ${format} from its content`, () => {
    expect(sniffText(src)).toBe(format);
    const sniffed = importText(src, { name: 's' });
    expect(sniffed).toBeDefined();
    expect(dumpAll(sniffed!)).toBe(whole);
  });
});

describe('sample diagnostics', () => {
  it('raw tracefs sample: bad line, mangled switch, truncated last line, loss', () => {
    const imp = createFtraceTextImporter({ name: 's' });
    imp.feed(RAW);
    const [t] = imp.end();
    expect(t!.diagnostics.map((d) => `${d.code} ${d.line}`)).toEqual([
      'VL1006 13',
      'VL1001 20',
      'VL1002 23',
      'VL1004 28',
    ]);
    expect(t!.lostEvents).toBe(4); // 24 - 22 written/in-buffer, plus the 2 LOST on CPU 1
  });

  it('trace-cmd sample: one loss marker, no other diagnostics', () => {
    const imp = createFtraceTextImporter({ name: 's' });
    imp.feed(TRACE_CMD);
    const ts = imp.end();
    expect(ts.map((t) => t.name)).toEqual(['host.dat', 'guest.dat']);
    expect(ts.map((t) => t.events.length)).toEqual([5, 4]);
    expect(ts.flatMap((t) => t.diagnostics.map((d) => `${d.code} ${d.line}`))).toEqual([
      'VL1006 10',
    ]);
    expect(ts.map((t) => t.header.version)).toEqual(['6', '6']);
  });

  it('perf sample: bad line, mangled switch, truncated last line', () => {
    const imp = createPerfScriptImporter({ name: 's' });
    imp.feed(PERF);
    const [t] = imp.end();
    expect(t!.diagnostics.map((d) => `${d.code} ${d.line}`)).toEqual([
      'VL1016 12',
      'VL1001 14',
      'VL1002 15',
      'VL1005 16',
      'VL1004 18',
    ]);
  });
});

describe('reading the samples from files with the name hidden', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vcpu-lens-chunking-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe.each(SAMPLES)('$name', ({ src, make, format }) => {
    const whole = feedAll(make, [src]).replaceAll('trace s format=', 'trace noname format=');
    const plain = join(dir, `${format}-${src.length}`);
    const gz = `${plain}.gz`;
    writeFileSync(plain, src);
    writeFileSync(gz, gzipSync(Buffer.from(src)));

    it.each([1, 2, 3, 5, 64, 4096])('plain file read %i bytes at a time', async (chunkBytes) => {
      const r = await readTraceFile(plain, { chunkBytes, name: 'noname' });
      expect(r.format).toBe(format);
      expect(r.compression).toBe('none');
      expect(r.diagnostics).toEqual([]);
      expect(r.textBytes).toBe(Buffer.byteLength(src));
      expect(dumpAll(r.traces)).toBe(whole);
    });

    it.each([64, 100, 4096])('gzip file read %i bytes at a time', async (chunkBytes) => {
      const r = await readTraceFile(gz, { chunkBytes, name: 'noname' });
      expect(r.format).toBe(format);
      expect(r.compression).toBe('gzip');
      expect(r.diagnostics).toEqual([]);
      expect(dumpAll(r.traces)).toBe(whole);
    });
  });
});
