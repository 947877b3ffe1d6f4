// perf script / perf sched script importer. Lines are copied from
// ../shared/fixtures/real/raw-noisy-passive/host.perf-sched.txt.gz, or are those lines in the other
// shapes perf prints (`-F pid,tid`, no CPU column, a sample period before the event name).

import { describe, expect, it } from 'vitest';
import {
  createPerfScriptImporter,
  importPerfScript,
  isPerfScript,
} from '../../src/core/ingest/perf-script';
import { Kind } from '../../src/core/model/event-kinds';
import type { Trace } from '../../src/core/model/trace';
import { traceInfo } from '../../src/core/report/info';
import { tasksReport } from '../../src/core/report/tasks';
import { dumpEvents, dumpTrace } from './support/dump';

const text = (...lines: string[]): string => lines.join('\n') + '\n';

function one(src: string): Trace {
  const traces = importPerfScript(src, { name: 'perf.txt' });
  expect(traces).toHaveLength(1);
  return traces[0]!;
}

function diagSummary(t: Trace): string[] {
  return t.diagnostics.map((d) => `${d.code} ${d.severity} line ${d.line ?? '-'}`);
}

describe('perf sched script lines', () => {
  it.each([
    {
      shape: 'sched_stat_runtime, name not padded',
      line: '            perf  3444 [000]  5079.325780: sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]',
      dump: '5079325780000 [0] sched:sched_stat_runtime perf:3444 lat= | task=perf:3444 runtime=56065',
    },
    {
      shape: 'sched_switch with the name right-aligned, state D, prio 0',
      line: '            perf  3444 [000]  5079.325810:       sched:sched_switch: prev_comm=perf prev_pid=3444 prev_prio=120 prev_state=D ==> next_comm=migration/0 next_pid=18 next_prio=0',
      dump: '5079325810000 [0] sched:sched_switch perf:3444 lat= | prev=perf:3444[120] state=D next=migration/0:18[0]',
    },
    {
      shape: 'sched_waking from a comm with a slash',
      line: '     migration/0    18 [000]  5079.325820:       sched:sched_waking: comm=perf pid=3444 prio=120 target_cpu=000',
      dump: '5079325820000 [0] sched:sched_waking migration/0:18 lat= | task=perf:3444[120] target=0',
    },
    {
      shape: 'sched_migrate_task',
      line: '     migration/0    18 [000]  5079.325823: sched:sched_migrate_task: comm=perf pid=3444 prio=120 orig_cpu=0 dest_cpu=1',
      dump: '5079325823000 [0] sched:sched_migrate_task migration/0:18 lat= | task=perf:3444[120] orig=0 dest=1',
    },
    {
      shape: 'the idle task (swapper, tid 0)',
      line: '         swapper     0 [000]  5079.328801:       sched:sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=cpuhog next_pid=3442 next_prio=120',
      dump: '5079328801000 [0] sched:sched_switch swapper:0 lat= | prev=swapper/0:0[120] state=R next=cpuhog:3442[120]',
    },
    {
      shape: 'comm with a dash filling all 16 columns',
      line: ' kworker/u8:5-kv 30173 [000]  5079.340824: sched:sched_stat_runtime: comm=kworker/u8:5 pid=30173 runtime=52880 [ns]',
      dump: '5079340824000 [0] sched:sched_stat_runtime kworker/u8:5-kv:30173 lat= | task=kworker/u8:5:30173 runtime=52880',
    },
    {
      shape: 'comm with spaces',
      line: '       CPU 0/TCG  3315 [000]  5079.499613:       sched:sched_waking: comm=qemu-system-x86 pid=3310 prio=120 target_cpu=000',
      dump: '5079499613000 [0] sched:sched_waking CPU 0/TCG:3315 lat= | task=qemu-system-x86:3310[120] target=0',
    },
    {
      shape: 'sched_switch to a comm with spaces, state R+',
      line: '          cpuhog  3442 [001]  5089.056633:       sched:sched_switch: prev_comm=cpuhog prev_pid=3442 prev_prio=120 prev_state=R+ ==> next_comm=CPU 3/TCG next_pid=3318 next_prio=120',
      dump: '5089056633000 [1] sched:sched_switch cpuhog:3442 lat= | prev=cpuhog:3442[120] state=R+ next=CPU 3/TCG:3318[120]',
    },
    {
      shape: 'sched_process_fork',
      line: ' qemu-system-x86  3310 [001]  5080.900057: sched:sched_process_fork: comm=qemu-system-x86 pid=3310 child_comm=qemu-system-x86 child_pid=3446',
      dump: '5080900057000 [1] sched:sched_process_fork qemu-system-x86:3310 lat= | parent=qemu-system-x86:3310 child=qemu-system-x86:3446',
    },
    {
      shape: 'sched_wakeup_new',
      line: ' qemu-system-x86  3310 [001]  5080.900065:   sched:sched_wakeup_new: comm=qemu-system-x86 pid=3446 prio=120 target_cpu=001',
      dump: '5080900065000 [1] sched:sched_wakeup_new qemu-system-x86:3310 lat= | task=qemu-system-x86:3446[120] target=1',
    },
    {
      shape: 'pid/tid column (-F pid,tid): the thread is the owner',
      line: '       CPU 0/TCG  3310/3315 [000]  5079.499613:       sched:sched_waking: comm=qemu-system-x86 pid=3310 prio=120 target_cpu=000',
      dump: '5079499613000 [0] sched:sched_waking CPU 0/TCG:3315 lat= | task=qemu-system-x86:3310[120] target=0',
    },
    {
      shape: 'a sample period before the event name',
      line: '            perf  3444 [001]  5079.325780:          1 sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]',
      dump: '5079325780000 [1] sched:sched_stat_runtime perf:3444 lat= | task=perf:3444 runtime=56065',
    },
    {
      shape: 'nanosecond timestamps (--ns)',
      line: '     migration/0    18 [000]  5079.325823456: sched:sched_migrate_task: comm=perf pid=3444 prio=120 orig_cpu=0 dest_cpu=1',
      dump: '5079325823456 [0] sched:sched_migrate_task migration/0:18 lat= | task=perf:3444[120] orig=0 dest=1',
    },
    {
      shape: 'a tracepoint kept as generic text',
      line: '            perf  3444 [000]  5078.908650: sched:sched_process_exec: filename=/usr/bin/perf pid=3444 old_pid=3444',
      dump: '5078908650000 [0] sched:sched_process_exec perf:3444 lat= | text="filename=/usr/bin/perf pid=3444 old_pid=3444"',
    },
    {
      shape: 'a syscall tracepoint',
      line: '       CPU 1/TCG  3316 [000]  5082.398847: syscalls:sys_enter_writev: fd: 0x00000009, vec: 0x7f3a1e7faca0, vlen: 0x00000001',
      dump: '5082398847000 [0] syscalls:sys_enter_writev CPU 1/TCG:3316 lat= | text="fd: 0x00000009, vec: 0x7f3a1e7faca0, vlen: 0x00000001"',
    },
    {
      shape: 'a tracepoint with no fields at the end of the line',
      line: '            perf  3444 [000]  5078.908650: sched:sched_kthread_stop:',
      dump: '5078908650000 [0] sched:sched_kthread_stop perf:3444 lat= | text=""',
    },
  ])('$shape', ({ line, dump }) => {
    const t = one(text(line));
    expect(dumpEvents(t)).toEqual([dump]);
    expect(t.format).toBe('perf-script');
    expect(t.diagnostics).toEqual([]);
  });

  it.each([
    ['sched:sched_switch', Kind.schedSwitch],
    ['sched:sched_waking', Kind.schedWaking],
    ['sched:sched_stat_runtime', Kind.schedStatRuntime],
    ['syscalls:sys_enter_writev', Kind.sysEnter],
    ['syscalls:sys_exit_writev', Kind.sysExit],
    ['sched:sched_process_exec', Kind.generic],
  ])('gives %s the kind of its bare name', (name, kind) => {
    const t = one(text(`            perf  3444 [000]  5078.908650: ${name}: x`));
    expect(t.eventTypes.map((e) => [e.name, e.kind])[0]).toEqual([name, kind]);
  });

  it('uses a perf clock in ns with the printed resolution', () => {
    const t = one(
      text(
        '            perf  3444 [000]  5079.325780: sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]',
      ),
    );
    expect(t.clock).toEqual({ name: 'perf', unit: 'ns', source: 'inferred', resolution: 1000 });
    expect(t.tsBase).toBe(5079325780000n);
  });

  it('counts CPUs from the events (perf script has no header)', () => {
    const t = one(
      text(
        '            perf  3444 [000]  5079.325780: sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]',
        '            perf  3444 [001]  5079.328797: sched:sched_stat_runtime: comm=perf pid=3444 runtime=11622 [ns]',
      ),
    );
    expect(t.cpuCount).toBe(2);
    expect(t.cpuCountSource).toBe('events');
    expect(t.events.ts(1)).toBe(3017000);
  });
});

describe('perf script as recorded with -g, samples and -F subsets', () => {
  // From ../shared/fixtures/peer/dspeyer__profiling/perf.scr (perf 3.13, `perf record -a -g`).
  const withChains = text(
    '# ========',
    '# captured on: Mon Apr  6 14:14:28 2015',
    '# nrcpus online : 4',
    '# ========',
    '#',
    'perf 28039 [000] 194010.024771: cycles: ',
    '\tffffffff8104f45a native_write_msr_safe ([kernel.kallsyms])',
    '\t    7fe5d6dfc337 __GI___ioctl (/lib/x86_64-linux-gnu/libc-2.19.so)',
    '',
    'perf 28039 194010.024862: sched:sched_wakeup: comm=perf pid=28042 prio=120 success=1 target_cpu=001',
    '\tffffffff810a0a4b ttwu_do_wakeup ([kernel.kallsyms])',
    '',
    'swapper     0 194010.024867: sched:sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=perf next_pid=28042 next_prio=120',
    '    ffffffff81723a85 __schedule ([kernel.kallsyms])',
    '',
  );

  it('is sniffed as perf script though most of its lines are frames', () => {
    expect(isPerfScript(withChains)).toBe(true);
    // Frames printed with spaces, not a tab, are no votes against it either.
    expect(isPerfScript(withChains.replaceAll('\t', '        '))).toBe(true);
    // Its header decides alone, whatever follows (a line longer than the sniffer reads).
    expect(isPerfScript(withChains.slice(0, withChains.indexOf('#\n')) + 'x'.repeat(70000))).toBe(
      true,
    );
  });

  it('reads samples and tracepoints, skips the frames, and puts CPU-less lines on no CPU', () => {
    const t = one(withChains);
    expect(dumpEvents(t)).toEqual([
      '194010024771000 [0] cycles perf:28039 lat= | text=""',
      '194010024862000 [?] sched:sched_wakeup perf:28039 lat= | task=perf:28042[120] target=1',
      '194010024867000 [?] sched:sched_switch swapper:0 lat= | prev=swapper/1:0[120] state=R next=perf:28042[120]',
    ]);
    expect(t.cpuCount).toBe(1);
    expect(t.header.eventsWithoutCpu).toBe(2);
    expect(diagSummary(t)).toEqual(['VL1016 warning line 10']);
  });

  it('says once per file that per-CPU views are off, and the tasks report lists no CPU', () => {
    const t = one(
      text(
        '            perf  3444  5079.325780: sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]',
        '            perf  3444  5079.325790: sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]',
      ),
    );
    expect(diagSummary(t)).toEqual(['VL1016 warning line 1']);
    expect(t.cpuCount).toBe(0);
    const rep = tasksReport(t);
    expect(rep.cpus).toEqual([]);
    expect(rep.eventsWithoutCpu).toBe(2);
    expect(traceInfo(t).header.eventsWithoutCpu).toBe(2);
  });

  it.each([
    {
      shape: 'pid/tid, no CPU, a cpu-clock sample (speedscope simple-with-pid)',
      line: 'simple-terminat     9/9     198791.127353: cpu-clock: ',
      dump: '198791127353000 [?] cpu-clock simple-terminat:9 lat= | text=""',
    },
    {
      shape: 'pid/tid padded (FlameGraph example-perf-stacks)',
      line: 'perf   977/977   [000] 7628263.042515: cycles: ',
      dump: '7628263042515000 [0] cycles perf:977 lat= | text=""',
    },
    {
      shape: 'a sample with its period and the ip on the line (-F ...,period,ip,sym)',
      line: '            perf  3444 [002]  5079.325780:     250000 cycles:u:  ffffffff8104f45a native_write_msr ([kernel.kallsyms])',
      dump: '5079325780000 [2] cycles:u perf:3444 lat= | text=" ffffffff8104f45a native_write_msr ([kernel.kallsyms])"',
    },
    {
      shape: '-F tid,cpu,time,event,trace (no comm)',
      line: '  3444 [001]  5079.325780: sched:sched_waking: comm=perf pid=3444 prio=120 target_cpu=000',
      dump: '5079325780000 [1] sched:sched_waking :3444 lat= | task=perf:3444[120] target=0',
    },
  ])('$shape', ({ line, dump }) => {
    expect(isPerfScript(text(line, line))).toBe(true);
    expect(dumpEvents(one(text(line)))).toEqual([dump]);
  });

  it('keeps a frame printed with spaces out of the events, but not an event-like line after a blank', () => {
    const t = one(
      text(
        'perf 28039 [000] 194010.024771: cycles: ',
        '            ffffffff8104f45a native_write_msr_safe ([kernel.kallsyms])',
        '',
        '            ffffffff8104f45a native_write_msr_safe ([kernel.kallsyms])',
      ),
    );
    expect(t.events.length).toBe(1);
    expect(diagSummary(t)).toEqual(['VL1001 error line 4']);
  });

  it('counts scheduler events printed with no fields (-F without trace), saying so once', () => {
    // `perf script -F comm,tid,cpu,time,event` of this host's capture (perf-record-g.txt).
    const t = one(
      text(
        '            perf 17437 [000]   583.697646:               sched:sched_stat_runtime: ',
        '            perf 17437 [000]   583.697901:                     sched:sched_waking: ',
        '            perf 17437 [000]   583.697905:                     sched:sched_switch: ',
      ),
    );
    expect(t.events.length).toBe(3);
    expect(diagSummary(t)).toEqual(['VL1002 warning line 1']);
    expect(traceInfo(t).events.byName).toEqual({
      'sched:sched_stat_runtime': 1,
      'sched:sched_waking': 1,
      'sched:sched_switch': 1,
    });
  });

  it('is not taken for ftrace text', () => {
    expect(
      isPerfScript(
        text(
          '              sh-1642  [002]    76.211701: sched_switch:          prev_comm=sh prev_pid=1642',
          '          <idle>-0     [002]    76.211513: sched_wakeup:          comm=sh pid=1642 prio=120',
        ),
      ),
    ).toBe(false);
  });
});

describe('perf script bad input', () => {
  const good1 =
    '            perf  3444 [000]  5079.325780: sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]';
  const good2 =
    '     migration/0    18 [000]  5079.325820:       sched:sched_waking: comm=perf pid=3444 prio=120 target_cpu=000';

  it('skips comment and blank lines without a diagnostic', () => {
    const t = one(
      text(
        '# ========',
        '# captured on    : Thu Jan  1 00:00:00 2026',
        '# ========',
        '#',
        good1,
        '',
        '   ',
        good2,
      ),
    );
    expect(t.events.length).toBe(2);
    expect(t.diagnostics).toEqual([]);
  });

  it.each([
    { what: 'free text', bad: 'Warning: 3 out of order events recorded.' },
    {
      what: 'no timestamp',
      bad: '            perf  3444 [000]  sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]',
    },
    { what: 'no event name', bad: '            perf  3444 [000]  5079.325790: ' },
    {
      what: 'words before the event name',
      bad: '            perf  3444 [000]  5079.325790: foo bar sched:sched_waking: comm=perf pid=3444 prio=120',
    },
  ])('reports $what as VL1001 on its line and keeps the rest', ({ bad }) => {
    const t = one(text(good1, bad, good2));
    expect(diagSummary(t)).toEqual(['VL1001 error line 2']);
    expect(t.diagnostics[0]!.source).toBe('perf.txt');
    expect(t.events.length).toBe(2);
  });

  it('reports a last line cut short as VL1004', () => {
    const t = one(text(good1, good2) + '     migration/0    18 [000]  5079.32');
    expect(diagSummary(t)).toEqual(['VL1004 warning line 3']);
    expect(t.events.length).toBe(2);
  });

  it('reports a last line cut inside the fields as VL1004, kept as a generic event', () => {
    const t = one(
      text(good1) +
        '            perf  3444 [000]  5079.325810:       sched:sched_switch: prev_comm=perf prev_pid=3444 prev_prio=120 prev_st',
    );
    expect(diagSummary(t)).toEqual(['VL1004 warning line 2']);
    expect(traceInfo(t).events.byName).toEqual({
      'sched:sched_stat_runtime': 1,
      'sched:sched_switch': 1,
    });
  });

  it('keeps a sched_switch with mangled fields as a generic event (VL1002), counted under its name', () => {
    const t = one(
      text(
        good1,
        '            perf  3444 [000]  5079.325810:       sched:sched_switch: prev_comm=perf prev_pid=3444 prev_prio=120 prev_state=D --> next_comm=migration/0 next_pid=18 next_prio=0',
        '     migration/0    18 [000]  5079.325841:       sched:sched_switch: prev_comm=migration/0 prev_pid=18 prev_prio=0 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120',
      ),
    );
    expect(diagSummary(t)).toEqual(['VL1002 warning line 2']);
    expect(t.eventTypes[t.events.type(1)]).toEqual({
      name: 'sched:sched_switch',
      kind: Kind.generic,
      undecoded: true,
    });
    expect(t.eventTypes[t.events.type(2)]!.kind).toBe(Kind.schedSwitch);
    expect(traceInfo(t).events.byName).toEqual({
      'sched:sched_switch': 2,
      'sched:sched_stat_runtime': 1,
    });
  });

  it('reads CRLF text exactly like LF text', () => {
    const lines = [
      good1,
      good2,
      ' kworker/u8:5-kv 30173 [000]  5079.340824: sched:sched_stat_runtime: comm=kworker/u8:5 pid=30173 runtime=52880 [ns]',
    ];
    expect(dumpTrace(one(lines.join('\r\n') + '\r\n'))).toBe(
      dumpTrace(one(lines.join('\n') + '\n')),
    );
  });

  it('gives the same trace fed line by line as fed whole', () => {
    const src = text(
      good1,
      good2,
      '            perf  3444 [001]  5079.328797: sched:sched_stat_runtime: comm=perf pid=3444 runtime=11622 [ns]',
    );
    const imp = createPerfScriptImporter({ name: 'perf.txt' });
    for (const l of src.split(/(?<=\n)/)) imp.feed(l);
    expect(dumpTrace(imp.end()[0]!)).toBe(dumpTrace(one(src)));
  });
});

describe('isPerfScript', () => {
  it.each([
    [
      'perf sched script',
      text(
        '            perf  3444 [000]  5079.325780: sched:sched_stat_runtime: comm=perf pid=3444 runtime=56065 [ns]',
      ),
      true,
    ],
    [
      'perf script with pid/tid and a period',
      text(
        '       CPU 0/TCG  3310/3315 [000]  5079.499613:          1 sched:sched_waking: comm=a pid=1 prio=120',
      ),
      true,
    ],
    [
      'trace-cmd report',
      text(
        'cpus=2',
        '          <idle>-0     [001]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
      ),
      false,
    ],
    [
      'tracefs text',
      text(
        '         python3-3269    [001] ...1.  5080.904497: tracing_mark_write: lab-host: raw-noisy-passive host_trace_started',
      ),
      false,
    ],
    ['prose', text('hello world', 'nothing to see: here'), false],
  ])('%s -> %s', (_what, src, expected) => {
    expect(isPerfScript(src)).toBe(expected);
  });
});
