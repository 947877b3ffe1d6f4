// ftrace text importer: trace-cmd report (3.1 and 3.3+), raw tracefs text, headers, multi-input
// prefixes, timestamps and diagnostics. Lines are copied from ../shared/fixtures/real (shortened
// where noted) or follow the kernel's / trace-cmd's print formats exactly.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFtraceTextImporter, importFtraceText } from '../../src/core/ingest/ftrace-text';
import { Kind, TASK_BITS, TASK_MASK } from '../../src/core/model/event-kinds';
import { PRIO_UNKNOWN } from '../../src/core/model/task-table';
import type { Trace } from '../../src/core/model/trace';
import { traceInfo } from '../../src/core/report/info';
import { absTs, dumpEvents, dumpTrace } from './support/dump';

/** Joins lines with `\n` and ends the text with one. */
const text = (...lines: string[]): string => lines.join('\n') + '\n';

/** Imports text that must yield exactly one trace. */
function one(src: string): Trace {
  const traces = importFtraceText(src, { name: 'test.txt' });
  expect(traces).toHaveLength(1);
  return traces[0]!;
}

function diagSummary(t: Trace): string[] {
  return t.diagnostics.map((d) => `${d.code} ${d.severity} line ${d.line ?? '-'}`);
}

describe('trace-cmd report lines', () => {
  it.each([
    {
      shape: 'trace-cmd 3.1, seconds clock, state D',
      line: '    guest_run.sh-528   [003]   330.426035: sched_switch:         guest_run.sh:528 [120] D ==> guest_run.sh:559 [120]',
      dump: '330426035000 [3] sched_switch guest_run.sh:528 lat= | prev=guest_run.sh:528[120] state=D next=guest_run.sh:559[120]',
    },
    {
      shape: 'trace-cmd 3.1, integer clock glued to the CPU column',
      line: '       trace-cmd-3367  [001]12093835164436: sched_switch:         trace-cmd:3367 [120] S ==> trace-cmd:3374 [120]',
      dump: '12093835164436 [1] sched_switch trace-cmd:3367 lat= | prev=trace-cmd:3367[120] state=S next=trace-cmd:3374[120]',
    },
    {
      shape: 'trace-cmd 3.3+, latency column before a seconds timestamp',
      line: '          <idle>-0     [000] d..2.   330.426272: sched_wakeup:         rcu_preempt:15 [120] CPU:000',
      dump: '330426272000 [0] sched_wakeup <idle>:0 lat=d..2. | task=rcu_preempt:15[120] target=0',
    },
    {
      shape: 'trace-cmd 3.3+, latency column glued to an integer clock',
      line: '       trace-cmd-3357  [001] d..2.12014651026378: sched_switch:         trace-cmd:3357 [120] S ==> swapper/1:0 [120]',
      dump: '12014651026378 [1] sched_switch trace-cmd:3357 lat=d..2. | prev=trace-cmd:3357[120] state=S next=swapper/1:0[120]',
    },
    {
      shape: 'state W (rcu_preempt)',
      line: '     rcu_preempt-15    [001]12093841037110: sched_switch:         rcu_preempt:15 [120] W ==> swapper/1:0 [120]',
      dump: '12093841037110 [1] sched_switch rcu_preempt:15 lat= | prev=rcu_preempt:15[120] state=W next=swapper/1:0[120]',
    },
    {
      shape: 'comm with a space, preempted state R+',
      line: '       CPU 0/TCG-3315  [000]  5034.292900: sched_switch:         CPU 0/TCG:3315 [120] R+ ==> swapper/0:0 [120]',
      dump: '5034292900000 [0] sched_switch CPU 0/TCG:3315 lat= | prev=CPU 0/TCG:3315[120] state=R+ next=swapper/0:0[120]',
    },
    {
      shape: 'unknown comm <...>',
      line: '           <...>-437   [000]602930784110: sched_switch:         trace-cmd:437 [120] S ==> swapper/0:0 [120]',
      dump: '602930784110 [0] sched_switch <...>:437 lat= | prev=trace-cmd:437[120] state=S next=swapper/0:0[120]',
    },
    {
      shape: 'comm with a colon',
      line: '     kworker/1:1-41    [001]  5034.192762: sched_switch:         kworker/1:1:41 [120] W ==> swapper/1:0 [120]',
      dump: '5034192762000 [1] sched_switch kworker/1:1:41 lat= | prev=kworker/1:1:41[120] state=W next=swapper/1:0[120]',
    },
    {
      shape: 'wakeup of a comm with a colon and a dash',
      line: '          <idle>-0     [001]  5034.207400: sched_wakeup:         memfd:sealed-91:5998 [120] CPU:001',
      dump: '5034207400000 [1] sched_wakeup <idle>:0 lat= | task=memfd:sealed-91:5998[120] target=1',
    },
    {
      shape: 'sched_waking in the kernel spelling',
      line: '          <idle>-0     [001]12093840971058: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
      dump: '12093840971058 [1] sched_waking <idle>:0 lat= | task=rcu_preempt:15[120] target=1',
    },
    {
      shape: 'sched_wakeup_new',
      line: '    guest_run.sh-528   [003]   330.425928: sched_wakeup_new:     guest_run.sh:559 [120] CPU:003',
      dump: '330425928000 [3] sched_wakeup_new guest_run.sh:528 lat= | task=guest_run.sh:559[120] target=3',
    },
    {
      shape: 'sched_migrate_task',
      line: '          <idle>-0     [000]12093841082680: sched_migrate_task:   comm=rcu_preempt pid=15 prio=120 orig_cpu=1 dest_cpu=0',
      dump: '12093841082680 [0] sched_migrate_task <idle>:0 lat= | task=rcu_preempt:15[120] orig=1 dest=0',
    },
    {
      shape: 'sched_process_fork',
      line: '    guest_run.sh-528   [003]   330.425736: sched_process_fork:   comm=guest_run.sh pid=528 child_comm=guest_run.sh child_pid=559',
      dump: '330425736000 [3] sched_process_fork guest_run.sh:528 lat= | parent=guest_run.sh:528 child=guest_run.sh:559',
    },
    {
      shape: 'print (tracing_mark_write) with its symbol',
      line: '         python3-3269  [001]  5034.265573: print:                tracing_mark_write: lab-host: quiet-passive-local host_trace_started',
      dump: '5034265573000 [1] print python3:3269 lat= | msg="lab-host: quiet-passive-local host_trace_started" sym=tracing_mark_write',
    },
    {
      shape: 'sys_enter_writev',
      line: '       CPU 2/TCG-3317  [001]  5037.394835: sys_enter_writev:     fd: 0x00000009, vec: 0x7f3a1dff9ca0, vlen: 0x00000001',
      dump: '5037394835000 [1] sys_enter_writev CPU 2/TCG:3317 lat= | text="fd: 0x00000009, vec: 0x7f3a1dff9ca0, vlen: 0x00000001"',
    },
    {
      shape: 'sys_exit_writev',
      line: '       CPU 2/TCG-3317  [001]  5037.394866: sys_exit_writev:      0x1',
      dump: '5037394866000 [1] sys_exit_writev CPU 2/TCG:3317 lat= | text="0x1"',
    },
  ])('$shape', ({ line, dump }) => {
    const t = one(text(line));
    expect(dumpEvents(t)).toEqual([dump]);
    expect(t.format).toBe('trace-cmd-report');
    expect(t.diagnostics).toEqual([]);
  });
});

describe('raw tracefs lines', () => {
  it.each([
    {
      shape: '5-character irq-info (d..2.)',
      line: '         python3-3269    [001] d..2.  5078.900217: sched_stat_runtime: comm=cpuhog pid=3443 runtime=3606328 [ns]',
      dump: '5078900217000 [1] sched_stat_runtime python3:3269 lat=d..2. | task=cpuhog:3443 runtime=3606328',
    },
    {
      shape: '4-character irq-info (d..2, kernels before migrate-disable)',
      line: '          <idle>-0     [000] d..2   375.464191: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=kworker/0:1 next_pid=17 next_prio=120',
      dump: '375464191000 [0] sched_switch <idle>:0 lat=d..2 | prev=swapper/0:0[120] state=R next=kworker/0:1:17[120]',
    },
    {
      shape: 'need-resched and softirq flags (dNs4.)',
      line: '            perf-3444    [000] dNs4.  5078.908623: sched_migrate_task: comm=rcu_preempt pid=15 prio=120 orig_cpu=1 dest_cpu=0',
      dump: '5078908623000 [0] sched_migrate_task perf:3444 lat=dNs4. | task=rcu_preempt:15[120] orig=1 dest=0',
    },
    {
      shape: 'hex migrate-disable depth (d..1f)',
      line: '          cpuhog-3442    [001] d..1f  5079.104644: sched_waking: comm=perf pid=3444 prio=120 target_cpu=000',
      dump: '5079104644000 [1] sched_waking cpuhog:3442 lat=d..1f | task=perf:3444[120] target=0',
    },
    {
      shape: 'hardirq with hex depth (d.h3a)',
      line: '          cpuhog-3443    [000] d.h3a  5078.900612: sched_stat_runtime: comm=cpuhog pid=3443 runtime=394771 [ns]',
      dump: '5078900612000 [0] sched_stat_runtime cpuhog:3443 lat=d.h3a | task=cpuhog:3443 runtime=394771',
    },
    {
      shape: '6-character irq-info (dNh3..)',
      line: '          cpuhog-3443    [000] dNh3..  5078.900620: sched_wakeup: comm=CPU 1/TCG pid=3316 prio=120 target_cpu=001',
      dump: '5078900620000 [0] sched_wakeup cpuhog:3443 lat=dNh3.. | task=CPU 1/TCG:3316[120] target=1',
    },
    {
      shape: 'TGID column with no tgid (-------)',
      line: '          <idle>-0       (-------) [000] d..2.   375.464191: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=kworker/0:1 next_pid=17 next_prio=120',
      dump: '375464191000 [0] sched_switch <idle>:0 lat=d..2. | prev=swapper/0:0[120] state=R next=kworker/0:1:17[120]',
    },
    {
      shape: 'TGID column with a tgid, comm with a space, state R+',
      line: '       CPU 0/TCG-3315    (   3310) [000] d..2.  5089.056633: sched_switch: prev_comm=CPU 0/TCG prev_pid=3315 prev_prio=120 prev_state=R+ ==> next_comm=cpuhog next_pid=3442 next_prio=120',
      dump: '5089056633000 [0] sched_switch CPU 0/TCG:3315 lat=d..2. | prev=CPU 0/TCG:3315[120] state=R+ next=cpuhog:3442[120]',
    },
    {
      shape: 'comm with a dash (kworker/u8:5-kv)',
      line: ' kworker/u8:5-kv-30173   [000] d..2.  5079.340830: sched_switch: prev_comm=kworker/u8:5 prev_pid=30173 prev_prio=120 prev_state=I ==> next_comm=cpuhog next_pid=3442 next_prio=120',
      dump: '5079340830000 [0] sched_switch kworker/u8:5-kv:30173 lat=d..2. | prev=kworker/u8:5:30173[120] state=I next=cpuhog:3442[120]',
    },
    {
      shape: 'sched_stat_runtime with vruntime (kernels before 6.8)',
      line: '     kworker/0:1-17      [000] d..2.   375.464270: sched_stat_runtime: comm=kworker/0:1 pid=17 runtime=1420865 [ns] vruntime=216693839587 [ns]',
      dump: '375464270000 [0] sched_stat_runtime kworker/0:1:17 lat=d..2. | task=kworker/0:1:17 runtime=1420865 vruntime=216693839587',
    },
    {
      shape: 'sched_wakeup_new in the kernel spelling',
      line: '         python3-3269    [001] d..2.  5078.900226: sched_wakeup_new: comm=python3 pid=3444 prio=120 target_cpu=000',
      dump: '5078900226000 [1] sched_wakeup_new python3:3269 lat=d..2. | task=python3:3444[120] target=0',
    },
    {
      shape: 'sched_process_fork in the kernel spelling',
      line: '         python3-3269    [001] .....  5078.900209: sched_process_fork: comm=python3 pid=3269 child_comm=python3 child_pid=3444',
      dump: '5078900209000 [1] sched_process_fork python3:3269 lat=..... | parent=python3:3269 child=python3:3444',
    },
    {
      shape: 'sched_process_exit with group_dead printed as a bool',
      line: '            perf-3445    [001] .....  5097.288750: sched_process_exit: comm=perf pid=3445 prio=120 group_dead=false',
      dump: '5097288750000 [1] sched_process_exit perf:3445 lat=..... | task=perf:3445[120] group_dead=0',
    },
    {
      shape: 'sched_process_exit without group_dead',
      line: '             cat-612     [001] .....   375.525651: sched_process_exit: comm=cat pid=612 prio=120',
      dump: '375525651000 [1] sched_process_exit cat:612 lat=..... | task=cat:612[120] group_dead=-1',
    },
    {
      shape: 'sched_process_free',
      line: '          cpuhog-3442    [001] ..s..  5097.304665: sched_process_free: comm=perf pid=3445 prio=120',
      dump: '5097304665000 [1] sched_process_free cpuhog:3442 lat=..s.. | task=perf:3445[120] group_dead=-1',
    },
    {
      shape: 'sched_process_wait',
      line: '         python3-3269    [001] .....  5096.218307: sched_process_wait: comm=python3 pid=3444 prio=120',
      dump: '5096218307000 [1] sched_process_wait python3:3269 lat=..... | task=python3:3444[120] group_dead=-1',
    },
    {
      shape: 'print event under its ip symbol (tracing_mark_write)',
      line: '         python3-3269    [001] ...1.  5080.904497: tracing_mark_write: lab-host: raw-noisy-passive host_trace_started',
      dump: '5080904497000 [1] tracing_mark_write python3:3269 lat=...1. | msg="lab-host: raw-noisy-passive host_trace_started" sym=tracing_mark_write',
    },
    {
      shape: 'an event kept as generic text (sched_process_exec)',
      line: '             cat-612     [001] .....   375.476261: sched_process_exec: filename=/usr/bin/cat pid=612 old_pid=612',
      dump: '375476261000 [1] sched_process_exec cat:612 lat=..... | text="filename=/usr/bin/cat pid=612 old_pid=612"',
    },
    {
      shape: 'sched_wake_idle_without_ipi (generic, long name)',
      line: '          <idle>-0       [003] d.h5.   376.012496: sched_wake_idle_without_ipi: cpu=2',
      dump: '376012496000 [3] sched_wake_idle_without_ipi <idle>:0 lat=d.h5. | text="cpu=2"',
    },
    {
      shape: 'kvm_exit with its vcpu (kernel 5.x+ spelling)',
      line: '       CPU 0/KVM-3315    [001] d..1.  5079.000001: kvm_exit: vcpu 0 reason HLT rip 0xffffffff81b5c0d4 info1 0x0000000000000000 info2 0x0000000000000000',
      dump: '5079000001000 [1] kvm_exit CPU 0/KVM:3315 lat=d..1. | vcpu=0 reason=HLT text="vcpu 0 reason HLT rip 0xffffffff81b5c0d4 info1 0x0000000000000000 info2 0x0000000000000000"',
    },
    {
      shape: 'kvm_exit before 5.13 (no vcpu printed)',
      line: '       CPU 2/KVM-3317    [001] d..1.  5079.000003: kvm_exit: reason EXTERNAL_INTERRUPT rip 0xffffffff81b5c0d4 info 0 800000ec',
      dump: '5079000003000 [1] kvm_exit CPU 2/KVM:3317 lat=d..1. | vcpu=-1 reason=EXTERNAL_INTERRUPT text="reason EXTERNAL_INTERRUPT rip 0xffffffff81b5c0d4 info 0 800000ec"',
    },
    {
      shape: 'kvm_entry with its vcpu',
      line: '       CPU 1/KVM-3316    [000] d..1.  5079.000002: kvm_entry: vcpu 1, rip 0xffffffff81b5c0d4',
      dump: '5079000002000 [0] kvm_entry CPU 1/KVM:3316 lat=d..1. | vcpu=1 text="vcpu 1, rip 0xffffffff81b5c0d4"',
    },
  ])('$shape', ({ line, dump }) => {
    const t = one(text(line));
    expect(dumpEvents(t)).toEqual([dump]);
    expect(t.format).toBe('ftrace-raw');
    expect(t.header.latencyColumn).toBe(true);
    expect(t.diagnostics).toEqual([]);
  });

  it.each([
    {
      shape: 'syscall entry with its arguments',
      line: '       CPU 1/TCG-3316    [000] .....  5082.398847: sys_writev(fd: 9, vec: 0x7f3a1e7faca0, vlen: 1)',
      dump: '5082398847000 [0] sys_enter_writev CPU 1/TCG:3316 lat=..... | text="fd: 9, vec: 0x7f3a1e7faca0, vlen: 1"',
      kind: Kind.sysEnter,
    },
    {
      shape: 'syscall exit with its return value',
      line: '       CPU 1/TCG-3316    [000] .....  5082.398934: sys_writev -> 0x1',
      dump: '5082398934000 [0] sys_exit_writev CPU 1/TCG:3316 lat=..... | text="0x1"',
      kind: Kind.sysExit,
    },
  ])('raw syscall line: $shape', ({ line, dump, kind }) => {
    const t = one(text('# tracer: nop', line));
    expect(dumpEvents(t)).toEqual([dump]);
    expect(t.eventTypes.map((e) => e.kind)).toEqual([kind]);
    expect(t.diagnostics).toEqual([]);
  });

  it('records the tgid from the TGID column and leaves it unset for (-------)', () => {
    const t = one(
      text(
        '          <idle>-0       (-------) [000] d..2.   375.464191: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=CPU 0/TCG next_pid=3315 next_prio=120',
        '       CPU 0/TCG-3315    (   3310) [000] d..2.   375.464300: sched_switch: prev_comm=CPU 0/TCG prev_pid=3315 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120',
      ),
    );
    expect(t.header.tgidColumn).toBe(true);
    expect(t.tasks.tgid(3315)).toBe(3310);
    expect(t.tasks.tgid(0)).toBeUndefined();
  });

  it('keeps each distinct irq-info string in the latency table', () => {
    const t = one(
      text(
        '          cpuhog-3443    [000] d.h1.  5078.900612: sched_stat_runtime: comm=cpuhog pid=3443 runtime=394771 [ns]',
        '          cpuhog-3442    [001] d.h1.  5078.900616: sched_stat_runtime: comm=cpuhog pid=3442 runtime=386095 [ns]',
        '         python3-3269    [001] d..2.  5078.900617: sched_stat_runtime: comm=cpuhog pid=3443 runtime=3606328 [ns]',
      ),
    );
    expect([0, 1, 2].map((i) => t.events.lat(i))).toEqual([1, 1, 2]);
    expect(t.latencies.get(1)).toBe('d.h1.');
    expect(t.latencies.get(2)).toBe('d..2.');
  });
});

describe('payload packing (event-kinds.ts)', () => {
  it('sched_switch: a0 = prev task | state id << 22, a1 = next task', () => {
    const t = one(
      text(
        '       CPU 0/TCG-3315    [000] d..2.  5089.056633: sched_switch: prev_comm=CPU 0/TCG prev_pid=3315 prev_prio=120 prev_state=R+ ==> next_comm=cpuhog next_pid=3442 next_prio=120',
      ),
    );
    const a0 = t.events.a0(0);
    const prev = a0 & TASK_MASK;
    const next = t.events.a1(0);
    expect([t.tasks.pid(prev), t.tasks.comm(prev), t.tasks.prio(prev)]).toEqual([
      3315,
      'CPU 0/TCG',
      120,
    ]);
    expect([t.tasks.pid(next), t.tasks.comm(next), t.tasks.prio(next)]).toEqual([
      3442,
      'cpuhog',
      120,
    ]);
    expect(t.states.get(a0 >>> TASK_BITS)).toBe('R+');
    // The line's owner has no printed prio, so it is a different task id for the same thread.
    const owner = t.events.task(0);
    expect([t.tasks.pid(owner), t.tasks.comm(owner), t.tasks.prio(owner)]).toEqual([
      3315,
      'CPU 0/TCG',
      PRIO_UNKNOWN,
    ]);
    expect(owner).not.toBe(prev);
  });

  it.each([
    ['R', 'R'],
    ['R+', 'R+'],
    ['S', 'S'],
    ['D', 'D'],
    ['W', 'W'],
    ['D|W', 'D|W'],
  ])('sched_switch state %s is stored as %s', (printed, stored) => {
    const t = one(
      text(
        `     kworker/1:1-41    [001]  5034.192762: sched_switch:         kworker/1:1:41 [120] ${printed} ==> swapper/1:0 [120]`,
      ),
    );
    expect(t.eventTypes[t.events.type(0)]!.kind).toBe(Kind.schedSwitch);
    expect(t.states.get(t.events.a0(0) >>> TASK_BITS)).toBe(stored);
  });

  it('sched_waking: a0 = task, a1 = target cpu', () => {
    const t = one(
      text(
        '          <idle>-0     [001]12093840971058: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=003',
      ),
    );
    const task = t.events.a0(0);
    expect([t.tasks.pid(task), t.tasks.comm(task), t.tasks.prio(task), t.events.a1(0)]).toEqual([
      15,
      'rcu_preempt',
      120,
      3,
    ]);
  });

  it('sched_migrate_task: a1 = orig cpu << 16 | dest cpu', () => {
    const t = one(
      text(
        '          <idle>-0     [001]12093850884836: sched_migrate_task:   comm=rcu_preempt pid=15 prio=120 orig_cpu=0 dest_cpu=1',
      ),
    );
    expect(t.events.a1(0)).toBe((0 << 16) | 1);
    const t2 = one(
      text(
        '          <idle>-0     [001]12093850884836: sched_migrate_task:   comm=rcu_preempt pid=15 prio=120 orig_cpu=3 dest_cpu=2',
      ),
    );
    expect(t2.events.a1(0)).toBe((3 << 16) | 2);
  });

  it('sched_process_fork: a0 = parent, a1 = child', () => {
    const t = one(
      text(
        '    guest_run.sh-528   [003]   330.425736: sched_process_fork:   comm=guest_run.sh pid=528 child_comm=sleep child_pid=559',
      ),
    );
    const parent = t.events.a0(0);
    const child = t.events.a1(0);
    expect([t.tasks.pid(parent), t.tasks.comm(parent)]).toEqual([528, 'guest_run.sh']);
    expect([t.tasks.pid(child), t.tasks.comm(child)]).toEqual([559, 'sleep']);
  });

  it('sched_stat_runtime without vruntime: a1 = runtime ns', () => {
    const t = one(
      text(
        '         python3-3269    [001] d..2.  5078.900217: sched_stat_runtime: comm=cpuhog pid=3443 runtime=3606328 [ns]',
      ),
    );
    expect(t.events.a1(0)).toBe(3606328);
  });

  it('sched_stat_runtime with vruntime: a1 < 0 points into the wide pool', () => {
    const t = one(
      text(
        '     kworker/0:1-17      [000] d..2.   375.464270: sched_stat_runtime: comm=kworker/0:1 pid=17 runtime=1420865 [ns] vruntime=216693839587 [ns]',
      ),
    );
    const a1 = t.events.a1(0);
    expect(a1).toBeLessThan(0);
    const at = -(a1 + 1);
    expect(t.events.wideAt(at)).toBe(1420865);
    expect(t.events.wideAt(at + 1)).toBe(216693839587);
  });

  it('sched_stat_runtime too large for an int32 goes to the wide pool', () => {
    const t = one(
      text(
        '          cpuhog-3443    [000] d.h1.  5078.900612: sched_stat_runtime: comm=cpuhog pid=3443 runtime=4294967296 [ns]',
      ),
    );
    const a1 = t.events.a1(0);
    expect(a1).toBeLessThan(0);
    expect(t.events.wideAt(-(a1 + 1))).toBe(4294967296);
  });

  it('print: a0 = message text, a1 = symbol string', () => {
    const t = one(
      text(
        '         python3-3269  [001]  5034.265573: print:                tracing_mark_write: lab-host: quiet-passive-local host_trace_started',
      ),
    );
    expect(t.texts.get(t.events.a0(0))).toBe('lab-host: quiet-passive-local host_trace_started');
    expect(t.strings.get(t.events.a1(0))).toBe('tracing_mark_write');
  });
});

describe('timestamps', () => {
  it.each([
    { ts: '5078.900209', abs: 5078900209000n, unit: 'ns', resolution: 1000 },
    { ts: '330.426272', abs: 330426272000n, unit: 'ns', resolution: 1000 },
    { ts: '375.464191123', abs: 375464191123n, unit: 'ns', resolution: 1 },
    { ts: '12014651026378', abs: 12014651026378n, unit: 'count', resolution: 1 },
    { ts: '602907987865', abs: 602907987865n, unit: 'count', resolution: 1 },
    { ts: '12345678901234567890', abs: 12345678901234567890n, unit: 'count', resolution: 1 },
  ])('$ts is exactly $abs ($unit)', ({ ts, abs, unit, resolution }) => {
    const t = one(
      text(
        `       trace-cmd-3367  [001] ${ts}: sched_switch:         trace-cmd:3367 [120] S ==> trace-cmd:3374 [120]`,
      ),
    );
    expect(absTs(t, 0)).toBe(abs);
    expect(t.tsBase).toBe(abs);
    expect(t.events.ts(0)).toBe(0);
    expect(t.clock.unit).toBe(unit);
    expect(t.clock.resolution).toBe(resolution);
    expect(t.clock.source).toBe('inferred');
  });

  it('keeps later timestamps exact relative to the base (seconds clock)', () => {
    const t = one(
      text(
        '         python3-3269    [001] .....  5078.900209: sched_process_fork: comm=python3 pid=3269 child_comm=python3 child_pid=3444',
        '         python3-3269    [001] d..2.  5078.900217: sched_stat_runtime: comm=cpuhog pid=3443 runtime=3606328 [ns]',
        '         python3-3269    [001] d..2.  5097.304665: sched_wakeup_new: comm=python3 pid=3444 prio=120 target_cpu=000',
      ),
    );
    expect(t.tsBase).toBe(5078900209000n);
    expect([0, 1, 2].map((i) => t.events.ts(i))).toEqual([0, 8000, 18404456000]);
    expect(absTs(t, 2)).toBe(5097304665000n);
  });

  it('keeps a 20-digit integer clock exact past 2^53', () => {
    const t = one(
      text(
        '       trace-cmd-3367  [001]12345678901234567890: sched_switch:         trace-cmd:3367 [120] S ==> trace-cmd:3374 [120]',
        '       trace-cmd-3374  [001]12345678901234567999: sched_switch:         trace-cmd:3374 [120] S ==> swapper/1:0 [120]',
      ),
    );
    expect(t.events.ts(1)).toBe(109);
    expect(absTs(t, 1)).toBe(12345678901234567999n);
  });

  it('takes the clock name from the options', () => {
    const t = importFtraceText(
      text(
        '       trace-cmd-3367  [001]12093835164436: sched_switch:         trace-cmd:3367 [120] S ==> trace-cmd:3374 [120]',
      ),
      {
        clock: 'x86-tsc',
      },
    )[0]!;
    expect(t.clock).toEqual({ name: 'x86-tsc', unit: 'count', source: 'user', resolution: 1 });
  });

  it('warns once when a stream mixes seconds and integer timestamps', () => {
    const t = one(
      text(
        '          <idle>-0     [001]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
        '          <idle>-0     [001]12093840989801: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
        '          <idle>-0     [001]12093840989802: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
      ),
    );
    expect(t.events.length).toBe(3);
    expect(diagSummary(t)).toEqual(['VL1003 warning line 2']);
  });
});

describe('header and non-event lines', () => {
  it('reads cpus= and version = from trace-cmd report', () => {
    const t = one(
      text(
        'version = 6',
        'cpus=4',
        'CPU 3 is empty',
        '    guest_run.sh-528   [003]   330.425736: sched_process_fork:   comm=guest_run.sh pid=528 child_comm=guest_run.sh child_pid=559',
      ),
    );
    expect(t.format).toBe('trace-cmd-report');
    expect(t.header.version).toBe('6');
    expect(t.header.cpus).toBe(4);
    expect(t.cpuCount).toBe(4);
    expect(t.cpuCountSource).toBe('header');
    expect(t.events.length).toBe(1);
    expect(t.linesRead).toBe(1);
    expect(t.diagnostics).toEqual([]);
  });

  it('reads the tracefs comment header', () => {
    const t = one(
      text(
        '# tracer: nop',
        '#',
        '# entries-in-buffer/entries-written: 5/7   #P:2',
        '#',
        '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
        '#              | |         |   |||||     |         |',
        '         python3-3269    [001] .....  5078.900209: sched_process_fork: comm=python3 pid=3269 child_comm=python3 child_pid=3444',
      ),
    );
    expect(t.format).toBe('ftrace-raw');
    expect(t.header.tracer).toBe('nop');
    expect(t.header.entriesInBuffer).toBe(5);
    expect(t.header.entriesWritten).toBe(7);
    expect(t.header.cpus).toBe(2);
    expect(t.cpuCount).toBe(2);
    expect(t.lostEvents).toBe(2);
    expect(t.header.tgidColumn).toBe(false);
    expect(t.diagnostics).toEqual([]);
  });

  it('counts the CPU from the events when there is no header', () => {
    const t = one(
      text(
        '          <idle>-0     [003]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
      ),
    );
    expect(t.cpuCount).toBe(4);
    expect(t.cpuCountSource).toBe('events');
  });

  it('warns when events use a CPU beyond the header count, on the line of the first', () => {
    const t = one(
      text(
        'cpus=2',
        '          <idle>-0     [003]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
      ),
    );
    expect(t.cpuCount).toBe(4);
    expect(t.cpuCountSource).toBe('events');
    expect(diagSummary(t)).toEqual(['VL1012 warning line 2']);
  });

  it.each([
    { line: 'CPU:1 [12 EVENTS DROPPED]', lost: 12 },
    { line: 'CPU:1 [EVENTS DROPPED]', lost: -1 },
    // tracefs (kernel/trace/trace.c print_trace_line) spells it differently.
    { line: 'CPU:1 [LOST 12 EVENTS]', lost: 12 },
    { line: 'CPU:1 [LOST EVENTS]', lost: -1 },
  ])('counts lost events from $line', ({ line, lost }) => {
    const t = one(
      text(
        'cpus=2',
        '          <idle>-0     [001]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
        line,
        '          <idle>-0     [001]  5034.172653: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
      ),
    );
    expect(t.lostEvents).toBe(lost);
    expect(t.events.length).toBe(2);
    expect(diagSummary(t)).toEqual(['VL1006 warning line 3']);
  });

  it('adds up several drop counts', () => {
    const t = one(
      text(
        'cpus=2',
        'CPU:0 [3 EVENTS DROPPED]',
        '          <idle>-0     [000]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
        'CPU:1 [12 EVENTS DROPPED]',
        '          <idle>-0     [001]  5034.172653: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
      ),
    );
    expect(t.lostEvents).toBe(15);
  });

  it('reads trace-cmd multi-input output as one trace per input', () => {
    const traces = importFtraceText(
      text(
        ' host.dat: cpus=2',
        'guest.dat: cpus=4',
        ' host.dat:        trace-cmd-3367  [001]12093835164436: sched_switch:         trace-cmd:3367 [120] S ==> trace-cmd:3374 [120]',
        'guest.dat:        trace-cmd-414   [002]602907987865: sched_switch:         trace-cmd:414 [120] S ==> trace-cmd:440 [120]',
        ' host.dat:           <idle>-0     [001]12093840971058: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
        'guest.dat:           <...>-437   [000]602930784110: sched_switch:         trace-cmd:437 [120] S ==> swapper/0:0 [120]',
      ),
      { name: 'both.txt' },
    );
    expect(
      traces.map((t) => [t.name, t.format, t.cpuCount, t.cpuCountSource, t.clock.unit]),
    ).toEqual([
      ['host.dat', 'trace-cmd-report', 2, 'header', 'count'],
      ['guest.dat', 'trace-cmd-report', 4, 'header', 'count'],
    ]);
    expect(dumpEvents(traces[0]!)).toEqual([
      '12093835164436 [1] sched_switch trace-cmd:3367 lat= | prev=trace-cmd:3367[120] state=S next=trace-cmd:3374[120]',
      '12093840971058 [1] sched_waking <idle>:0 lat= | task=rcu_preempt:15[120] target=1',
    ]);
    expect(dumpEvents(traces[1]!)).toEqual([
      '602907987865 [2] sched_switch trace-cmd:414 lat= | prev=trace-cmd:414[120] state=S next=trace-cmd:440[120]',
      '602930784110 [0] sched_switch <...>:437 lat= | prev=trace-cmd:437[120] state=S next=swapper/0:0[120]',
    ]);
    expect(traces.flatMap((t) => t.diagnostics)).toEqual([]);
  });
});

describe('per-line caches (names, comms, prefixes) compare the text, not only its shape', () => {
  it('tells apart event names that share length, first, middle and last character', () => {
    // Both names hash to the same slot in TraceBuilder.typeIdAt.
    const t = one(
      text(
        'cpus=2',
        '          <idle>-0     [001]  5034.172647: sched_foo_x:          a=1',
        '          <idle>-0     [001]  5034.172648: sched_bar_x:          a=2',
        '          <idle>-0     [001]  5034.172649: sched_foo_x:          a=3',
        '          <idle>-0     [001]  5034.172650: sched_bar_x:          a=4',
      ),
    );
    const names = [0, 1, 2, 3].map((i) => t.eventTypes[t.events.type(i)]!.name);
    expect(names).toEqual(['sched_foo_x', 'sched_bar_x', 'sched_foo_x', 'sched_bar_x']);
  });

  it('tells apart two comms of one length under one pid (exec)', () => {
    const t = one(
      text(
        'cpus=2',
        '          cpuhog-3444  [000]  5034.172647: sched_foo:            a=1',
        '          python-3444  [000]  5034.172648: sched_foo:            a=2',
        '          cpuhog-3444  [000]  5034.172649: sched_foo:            a=3',
      ),
    );
    const comms = [0, 1, 2].map((i) => t.tasks.comm(t.events.task(i)));
    expect(comms).toEqual(['cpuhog', 'python', 'cpuhog']);
    expect(t.tasks.size).toBe(2);
  });

  it('reads each prefix area anew when it changes between inputs of one name width', () => {
    const traces = importFtraceText(
      text(
        'a.dat: cpus=1',
        'b.dat: cpus=1',
        'a.dat:           <idle>-0     [000]  5034.172647: sched_foo:            a=1',
        'b.dat:           <idle>-0     [000]  5034.172648: sched_foo:            a=2',
        'b.dat:           <idle>-0     [000]  5034.172649: sched_foo:            a=3',
        'a.dat:           <idle>-0     [000]  5034.172650: sched_foo:            a=4',
      ),
    );
    expect(traces.map((t) => [t.name, t.events.length])).toEqual([
      ['a.dat', 2],
      ['b.dat', 2],
    ]);
  });
});

describe('text outside ASCII (the parser reads code units, not only bytes)', () => {
  // ÿ is U+00FF and ǿ U+01FF: code units cut to bytes would take one for the other. ſ (U+017F),
  // 𝄞 (a surrogate pair). One pid under comms that differ only there must stay apart.
  const src = text(
    'cpus=2',
    '         cpuhogÿ-3444  [000]  5034.172647: sched_switch:         cpuhogÿ:3444 [120] R ==> cpuhogſ:3445 [120]',
    '         cpuhogſ-3445  [000]  5034.172648: sched_waking:         comm=cpuhogÿ pid=3444 prio=120 target_cpu=000',
    '         cpuhogſ-3445  [000]  5034.172649: sched_switch:         cpuhogſ:3445 [120] S ==> cpuhog𝄞:3444 [120]',
    '        cpuhog𝄞-3444  [000]  5034.172650: sched_wakeup:         cpuhogſ:3445 [120] CPU:000',
    '        cpuhog𝄞-3444  [000]  5034.172651: sched_switch:         cpuhog𝄞:3444 [120] R ==> cpuhogǿ:3444 [120]',
  );
  const want = [
    'cpuhogÿ cpuhogÿ cpuhogſ',
    'cpuhogſ cpuhogÿ',
    'cpuhogſ cpuhogſ cpuhog𝄞',
    'cpuhog𝄞 cpuhogſ',
    'cpuhog𝄞 cpuhog𝄞 cpuhogǿ',
  ];
  /** Each event's owner comm, then its payload's task comms. */
  const comms = (t: Trace): string[] =>
    [0, 1, 2, 3, 4].map((i) => {
      const kind = t.eventTypes[t.events.type(i)]!.kind;
      const owner = t.tasks.comm(t.events.task(i));
      const a0 = t.tasks.comm(t.events.a0(i) & TASK_MASK);
      return kind === Kind.schedSwitch
        ? `${owner} ${a0} ${t.tasks.comm(t.events.a1(i))}`
        : `${owner} ${a0}`;
    });

  it('keeps comms that differ only outside ASCII apart, fed whole', () => {
    const t = one(src);
    expect(t.diagnostics).toEqual([]);
    expect(comms(t)).toEqual(want);
  });

  it('reads them the same fed a few characters at a time (carried lines)', () => {
    const imp = createFtraceTextImporter({ name: 'test.txt' });
    for (let i = 0; i < src.length; i += 7) imp.feed(src.slice(i, i + 7));
    const t = imp.end()[0]!;
    expect(comms(t)).toEqual(want);
    expect(dumpTrace(t)).toBe(dumpTrace(one(src)));
  });
});

describe('line endings', () => {
  const lines = [
    'cpus=2',
    '          <idle>-0     [001]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
    '          <idle>-0     [001]  5034.172653: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
    '     rcu_preempt-15    [001]  5034.172671: sched_switch:         rcu_preempt:15 [120] W ==> swapper/1:0 [120]',
    '         python3-3269  [001]  5034.265573: print:                tracing_mark_write: lab-host: quiet-passive-local host_trace_started',
  ];

  it('reads CRLF text exactly like LF text', () => {
    const lf = one(lines.join('\n') + '\n');
    const crlf = one(lines.join('\r\n') + '\r\n');
    expect(dumpTrace(crlf)).toBe(dumpTrace(lf));
    expect(dumpEvents(crlf)[3]).toBe(
      '5034265573000 [1] print python3:3269 lat= | msg="lab-host: quiet-passive-local host_trace_started" sym=tracing_mark_write',
    );
    expect(crlf.diagnostics).toEqual([]);
  });

  it('loads a last line without a newline, warning that it may be cut short', () => {
    const t = one(lines.join('\n'));
    expect(t.events.length).toBe(4);
    expect(t.diagnostics.map((d) => [d.code, d.severity, d.line])).toEqual([
      ['VL1004', 'warning', 5],
    ]);
    expect(t.diagnostics[0]!.message).toMatch(/may be cut short/);
  });
});

describe('bad input', () => {
  const good1 =
    '          <idle>-0     [001]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001';
  const good2 =
    '          <idle>-0     [001]  5034.172653: sched_wakeup:         rcu_preempt:15 [120] CPU:001';

  it.each([
    ['a stray byte after the CPU', '[001]\ufffd d..1.12014659034301:'],
    ['junk that looks like a 4-wide column', '[001];;!! \u001b[31m.12014659034301:'],
    ['a space inside the column', '[001] d..1 12014659034301:'],
    ['a stray byte between the column and the time', '[001] d..1.\ufffd12014659034301:'],
  ])('%s does not teach a latency width that breaks the glued lines after it', (_w, damaged) => {
    // Found by fuzzing (trace-cmd >= 3.3, integer clock: 'd..2.12014660623200:'): one damaged
    // line taught the importer a wrong width, and every later line became a bad timestamp.
    const t = one(
      text(
        'cpus=4',
        '          <idle>-0     [001] d.s4.12014658989638: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
        `     rcu_preempt-15    ${damaged} sched_switch:         rcu_preempt:15 [120] W ==> swapper/1:0 [120]`,
        '          <idle>-0     [001] d..2.12014660623200: sched_waking:         comm=python3 pid=3269 prio=120 target_cpu=001',
        '          <idle>-0     [001] dNh2.12014660636920: sched_wakeup:         python3:3269 [120] CPU:001',
        '          <idle>-0     [001] d..2.12014660640000: sched_wakeup:         python3:3269 [120] CPU:001',
      ),
    );
    // The damaged line may or may not load; the others all do, with their exact timestamps.
    const ts = Array.from({ length: t.events.length }, (_, i) => absTs(t, i));
    expect(ts).toEqual(
      expect.arrayContaining([12014658989638n, 12014660623200n, 12014660636920n, 12014660640000n]),
    );
    expect(diagSummary(t).filter((d) => !/line 3$/.test(d))).toEqual([]);
  });

  it.each([
    { what: 'free text', bad: 'this is not a trace line' },
    {
      what: 'no CPU column',
      bad: '          <idle>-0     5034.172650: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
    },
    {
      what: 'no pid',
      bad: '          <idle>     [001]  5034.172650: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
    },
    { what: 'no timestamp colon', bad: '          <idle>-0     [001]  5034.172650 sched_wakeup' },
  ])('reports $what as VL1001 on its line and keeps the rest', ({ bad }) => {
    const t = one(text('cpus=2', good1, bad, good2));
    expect(diagSummary(t)).toEqual(['VL1001 error line 3']);
    expect(t.diagnostics[0]!.source).toBe('test.txt');
    expect(t.diagnostics[0]!.message).toContain(JSON.stringify(bad));
    expect(t.events.length).toBe(2);
    expect(traceInfo(t).events.byName).toEqual({ sched_waking: 1, sched_wakeup: 1 });
  });

  it('reports a bad timestamp as VL1003 on its line', () => {
    const t = one(
      text(
        'cpus=2',
        good1,
        '          <idle>-0     [001]  5034.17x653: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
        good2,
      ),
    );
    expect(diagSummary(t)).toEqual(['VL1003 error line 3']);
    expect(t.events.length).toBe(2);
  });

  it.each([
    { what: 'inside the timestamp', cut: '          <idle>-0     [001]  5034.1726' },
    { what: 'inside the comm', cut: '          <idl' },
  ])('reports a last line cut $what as VL1004', ({ cut }) => {
    const t = one(text('cpus=2', good1, good2) + cut);
    expect(diagSummary(t)).toEqual(['VL1004 warning line 4']);
    expect(t.events.length).toBe(2);
  });

  it('reports a last line cut inside the fields as VL1004 and keeps it as a generic event', () => {
    const t = one(
      text('cpus=2', good1) +
        '     rcu_preempt-15    [001]  5034.172671: sched_switch:         rcu_preempt:15 [120] W ==> swapp',
    );
    expect(diagSummary(t)).toEqual(['VL1004 warning line 3']);
    expect(traceInfo(t).events.byName).toEqual({ sched_waking: 1, sched_switch: 1 });
  });

  it('keeps a sched_switch with mangled fields as a generic event (VL1002), counted under its name', () => {
    const t = one(
      text(
        'cpus=2',
        '     rcu_preempt-15    [001]  5034.172671: sched_switch:         rcu_preempt:15 [120] W ==> swapper/1:0 [120]',
        '     rcu_preempt-15    [001]  5034.172680: sched_switch:         rcu_preempt:15 [120] W --> swapper/1:0 [120]',
        '          <idle>-0     [001]  5034.172690: sched_switch:         swapper/1:0 [120] R ==> rcu_preempt:15 [120]',
      ),
    );
    expect(diagSummary(t)).toEqual(['VL1002 warning line 3']);
    expect(t.events.length).toBe(3);
    const kept = t.eventTypes[t.events.type(1)]!;
    expect(kept).toEqual({ name: 'sched_switch', kind: Kind.generic, undecoded: true });
    expect(t.texts.get(t.events.a0(1))).toBe('rcu_preempt:15 [120] W --> swapper/1:0 [120]');
    expect(t.events.a1(1)).toBe(-1);
    expect(t.eventTypes[t.events.type(2)]!.kind).toBe(Kind.schedSwitch);
    expect(traceInfo(t).events.byName).toEqual({ sched_switch: 3 });
  });

  it.each([
    {
      what: 'kernel spelling with a non-numeric pid',
      line: '          <idle>-0     [000] d..2.   375.464191: sched_switch: prev_comm=swapper/0 prev_pid=x prev_prio=120 prev_state=R ==> next_comm=kworker/0:1 next_pid=17 next_prio=120',
    },
    {
      what: 'sched_wakeup without a prio',
      line: '          <idle>-0     [001]  5034.172653: sched_wakeup:         rcu_preempt:15 CPU:001',
    },
    {
      what: 'sched_migrate_task without dest_cpu',
      line: '          <idle>-0     [000]  5034.172680: sched_migrate_task:   comm=rcu_preempt pid=15 prio=120 orig_cpu=1',
    },
  ])('keeps $what as a generic event (VL1002)', ({ line }) => {
    const t = one(text(line));
    expect(diagSummary(t)).toEqual(['VL1002 warning line 1']);
    expect(t.eventTypes[t.events.type(0)]!.undecoded).toBe(true);
    expect(t.events.length).toBe(1);
  });

  it('caps diagnostics and says how many were suppressed', () => {
    const bad = Array.from({ length: 7 }, (_, i) => `garbage ${i}`);
    const t = importFtraceText(text('cpus=2', good1, ...bad), { diagnosticsCap: 3 })[0]!;
    expect(t.diagnostics.map((d) => d.code)).toEqual(['VL1001', 'VL1001', 'VL1001', 'VL1008']);
    expect(t.diagnostics[3]!.message).toBe('4 more diagnostics suppressed (cap 3)');
    expect(t.events.length).toBe(1);
  });

  it('returns one empty trace for empty input', () => {
    const t = one('');
    expect(t.events.length).toBe(0);
    expect(t.tsBase).toBe(0n);
    expect(t.cpuCount).toBe(0);
    expect(t.diagnostics).toEqual([]);
  });
});

describe('streaming', () => {
  it('gives the same trace fed line by line as fed whole', () => {
    const src = text(
      '# tracer: nop',
      '# entries-in-buffer/entries-written: 4/4   #P:2',
      '         python3-3269    [001] .....  5078.900209: sched_process_fork: comm=python3 pid=3269 child_comm=python3 child_pid=3444',
      '         python3-3269    [001] d..2.  5078.900217: sched_stat_runtime: comm=cpuhog pid=3443 runtime=3606328 [ns]',
      '         python3-3269    [001] d..2.  5078.900226: sched_wakeup_new: comm=python3 pid=3444 prio=120 target_cpu=000',
      '       CPU 1/TCG-3316    [000] .....  5082.398847: sys_writev(fd: 9, vec: 0x7f3a1e7faca0, vlen: 1)',
    );
    const imp = createFtraceTextImporter({ name: 'test.txt' });
    for (const l of src.split(/(?<=\n)/)) imp.feed(l);
    const streamed = imp.end();
    expect(streamed).toHaveLength(1);
    expect(dumpTrace(streamed[0]!)).toBe(dumpTrace(one(src)));
    expect(streamed[0]!.events.length).toBe(4);
  });
});

describe('trace-cmd report in the other layouts it prints', () => {
  // From ../shared/fixtures/peer/ARM-software__lisa/tests__assets__trace_txt__trace.txt
  // (`version = 6`, raw fields, one more pad space after the name; Linux 4.x).
  const lisa = text(
    'version = 6',
    'cpus=6',
    '           <...>-1701  [001]    76.211513: sched_switch:          prev_comm=trace-cmd prev_pid=1701 prev_prio=120 prev_state=64 next_comm=swapper/1 next_pid=0 next_prio=120',
    '          <idle>-0     [002]    76.211513: sched_wakeup:          comm=sh pid=1642 prio=120 success=1 target_cpu=2',
    '              sh-1642  [002]    76.211701: sched_switch:          prev_comm=sh prev_pid=1642 prev_prio=120 prev_state=4096 next_comm=kworker/u12:1 next_pid=46 next_prio=120',
    '   kworker/u12:1-46    [002]    76.211715: sched_switch:          prev_comm=kworker/u12:1 prev_pid=46 prev_prio=120 prev_state=130 next_comm=sh next_pid=1642 next_prio=120',
  );

  it('decodes raw fields (-R) after an extra pad space, numeric states in the old kernel table', () => {
    const t = one(lisa);
    expect(dumpEvents(t)).toEqual([
      '76211513000 [1] sched_switch <...>:1701 lat= | prev=trace-cmd:1701[120] state=x next=swapper/1:0[120]',
      '76211513000 [2] sched_wakeup <idle>:0 lat= | task=sh:1642[120] target=2',
      '76211701000 [2] sched_switch sh:1642 lat= | prev=sh:1642[120] state=R next=kworker/u12:1:46[120]',
      '76211715000 [2] sched_switch kworker/u12:1:46 lat= | prev=kworker/u12:1:46[120] state=D|K next=sh:1642[120]',
    ]);
    expect(t.diagnostics).toEqual([]);
  });

  it.each([
    ['0', 'R'],
    ['1', 'S'],
    ['2', 'D'],
    ['16', 'X'],
    ['32', 'Z'],
    ['64', 'P'],
    ['128', 'I'],
    ['256', 'R'],
  ])('maps prev_state=%s of a kernel >= 4.14 to %s, as libtraceevent does', (v, letters) => {
    const t = one(
      text(
        `          <idle>-0     [000]    76.211523: sched_switch: prev_comm=swapper/2 prev_pid=0 prev_prio=120 prev_state=${v} next_comm=sh next_pid=1642 next_prio=120`,
      ),
    );
    expect(dumpEvents(t)[0]).toContain(` state=${letters} `);
  });

  it('decodes the raw fields libtraceevent prints after [FAILED TO PARSE]', () => {
    const t = one(
      text(
        '          <idle>-0     [000]    76.211523: sched_switch:         [FAILED TO PARSE] prev_comm=swapper/2 prev_pid=0 prev_prio=120 prev_state=1 next_comm=sh next_pid=1642 next_prio=120',
        '          <idle>-0     [000]    76.211524: sched_waking:         [FAILED TO PARSE] comm=sh pid=1642 prio=120 target_cpu=0',
        '          <idle>-0     [000]    76.211525: foo_bar:              [FAILED TO PARSE] a=1',
      ),
    );
    expect(dumpEvents(t)).toEqual([
      '76211523000 [0] sched_switch <idle>:0 lat= | prev=swapper/2:0[120] state=S next=sh:1642[120]',
      '76211524000 [0] sched_waking <idle>:0 lat= | task=sh:1642[120] target=0',
      '76211525000 [0] foo_bar <idle>:0 lat= | text="[FAILED TO PARSE] a=1"',
    ]);
  });

  it('reads the >= 3.3 latency column glued to an integer clock', () => {
    const t = one(
      text(
        'cpus=8',
        '          qemu-1234  [005] .....303280081900681: kvm_halt_poll_ns:     vcpu 0: halt_poll_ns 0 (shrink 10000)',
        '          qemu-1234  [005] d..2.303280081900700: sched_switch:         qemu:1234 [120] S ==> swapper/5:0 [120]',
      ),
    );
    expect(dumpEvents(t)).toEqual([
      '303280081900681 [5] kvm_halt_poll_ns qemu:1234 lat=..... | text="vcpu 0: halt_poll_ns 0 (shrink 10000)"',
      '303280081900700 [5] sched_switch qemu:1234 lat=d..2. | prev=qemu:1234[120] state=S next=swapper/5:0[120]',
    ]);
  });

  it('says once where timestamps first go back, and stores the events in time order', () => {
    const t = one(
      text(
        'cpus=2',
        '          <idle>-0     [000]   330.000300: sched_waking:         sh:1 [120] CPU:000',
        '          <idle>-0     [001]   330.000100: sched_waking:         sh:2 [120] CPU:001',
        '          <idle>-0     [000]   330.000200: sched_waking:         sh:3 [120] CPU:000',
        '          <idle>-0     [001]   330.000050: sched_waking:         sh:4 [120] CPU:001',
      ),
    );
    expect(diagSummary(t)).toEqual(['VL1005 warning line 3']);
    expect(dumpEvents(t).map((l) => l.split(' ')[0])).toEqual([
      '330000050000',
      '330000100000',
      '330000200000',
      '330000300000',
    ]);
    expect(t.events.sorted).toBe(true);
  });
});

describe('trace-cmd report -R of other events (lines from trace-cmd 3.3.3 -R of peer .dat files)', () => {
  it('reads a hex prev_state, raw sched_process_fork, and raw kvm_entry / kvm_exit with the VMX reason named', () => {
    const t = one(
      text(
        'cpus=8',
        '       trace-cmd-4793  [001]-0x1   432.727160: sched_switch:          prev_comm=trace-cmd prev_pid=4793 prev_prio=120 prev_state=0x40 next_comm=Thread-105 next_pid=4791 next_prio=116',
        '       trace-cmd-4793  [001]-0x1   432.727161: sched_switch:          prev_comm=trace-cmd prev_pid=4793 prev_prio=120 prev_state=0x402 next_comm=Thread-105 next_pid=4791 next_prio=116',
        '              sh-4768  [000]-0x1   432.728374: sched_process_fork:    parent_comm=sh parent_pid=4768 child_comm=sh child_pid=4800',
        ' qemu-system-x86-483882 [007]-0x1 22149.949586: kvm_entry:             vcpu_id=0 rip=0xffffffffa13f2e30',
        ' qemu-system-x86-483882 [007]-0x1 22149.949610: kvm_exit:              exit_reason=12 guest_rip=0xffffffffa0632f49 isa=1 info1=0x0000000000000000 info2=0x0000000000000000 intr_info=0x00000000 error_code=0x00000000 vcpu_id=3',
        ' qemu-system-x86-483882 [007]-0x1 22149.949611: kvm_exit:              exit_reason=120 guest_rip=0xffffffffa0632f49 isa=2 info1=0x0 info2=0x0 intr_info=0x00000000 error_code=0x00000000 vcpu_id=3',
      ),
    );
    const fields = dumpEvents(t).map((l) => l.slice(l.indexOf('| ') + 2));
    expect(fields).toEqual([
      'prev=trace-cmd:4793[120] state=x next=Thread-105:4791[116]',
      'prev=trace-cmd:4793[120] state=D|N next=Thread-105:4791[116]',
      'parent=sh:4768 child=sh:4800',
      'vcpu=0 text="vcpu_id=0 rip=0xffffffffa13f2e30"',
      expect.stringMatching(/^vcpu=3 reason=HLT text=/),
      expect.stringMatching(/^vcpu=3 reason=120 text=/),
    ]);
    expect(t.diagnostics).toEqual([]);
  });
});

describe('stacks printed under their event', () => {
  it('skips the frames trace-cmd (=> ...) and tracefs (<stack trace>) print, without a diagnostic', () => {
    // From trace-cmd 3.3.3 report of ../shared/fixtures/peer/DJSeb__kernel-shark-sebanek-gh-mirror/SurveyPaper__ExampleData__trace2.dat.
    const t = one(
      text(
        'cpus=2',
        '          <idle>-0     [001] d..2.  5034.172647: kernel_stack:         <stack trace >',
        '=> trace_event_raw_event_cpu (ffffffff90210f20)',
        '=> default_idle_call (ffffffff90f32125)',
        '          <idle>-0     [001] d..2.  5034.172650: sched_switch:         swapper/1:0 [120] R ==> sh:1642 [120]',
        ' <stack trace>',
        ' => do_idle',
      ),
    );
    expect(t.events.length).toBe(2);
    expect(t.diagnostics).toEqual([]);
  });
});

describe('report -R reads as the report it is the raw form of', () => {
  it("trace-cmd-3.1-raw.txt gives trace-cmd-3.1-local.txt's events, states in the kernel's letters", () => {
    // Both are the start of real/quiet-passive-local/guest.dat, through Debian's trace-cmd 3.1.6:
    // its sched plugin (libtraceevent 1.7) prints 0x80 as W and 0x20 as X, the kernel I and Z.
    const dir = `${__dirname}/../fixtures/formats`;
    const pretty = one(readFileSync(`${dir}/trace-cmd-3.1-local.txt`, 'utf8'));
    const raw = one(readFileSync(`${dir}/trace-cmd-3.1-raw.txt`, 'utf8'));
    const want = dumpEvents(pretty).map((l) =>
      l.replace(' state=W ', ' state=I ').replace(' state=X ', ' state=Z '),
    );
    expect(dumpEvents(raw).slice(0, want.length)).toEqual(want);
  });
});
