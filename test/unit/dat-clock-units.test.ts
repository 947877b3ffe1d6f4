// What `info` and `tasks` say about a .dat's clock: a v6 file from trace-cmd 2.x keeps its
// trace_clock after the CPU offsets (its TRACECLOCK option is empty), and count clocks print as
// ticks with thousands separators (not `3510.575 Mticks`), with the hint how to read seconds.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatTasks } from '../../src/cli/commands/tasks';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import type { TasksReport } from '../../src/core/report/tasks';
import { missing, PEER } from './support/fixtures';

describe('.dat clocks', () => {
  const why = missing(PEER, '../shared/fixtures/peer');
  it.skipIf(why)(
    `a v6 file with an empty TRACECLOCK option reads [local] from its trace_clock section${why ?? ''}`,
    () => {
      for (const f of [
        'ARM-software__trappy/doc__trace_stats.dat',
        'wsdias__LabSisOp/t3__qemu_traces__sched_rr_trace.dat',
      ]) {
        const t = importTraceDat(readFileSync(path.join(PEER, f)), {
          name: f,
          decompressors: nodeDecompressors,
        })[0]!;
        expect(t.clock, f).toMatchObject({ name: 'local', unit: 'ns', source: 'file' });
      }
    },
  );

  it('tasks prints a count clock as separated ticks, and says how to give the rate', () => {
    const rep = {
      name: 'guest.dat',
      unit: 'count',
      span: 3_510_575_000,
      cpus: [],
      threads: [{ pid: 7, comm: 'omp', time: { running: 2_000_000 }, preemptions: 0 }],
      inconsistencies: 0,
    } as unknown as TasksReport;
    const text = formatTasks(rep);
    expect(text.split('\n')[0]).toBe('guest.dat: span 3,510,575,000 ticks');
    expect(text).toContain('2,000,000 ticks');
    expect(text).toContain('--tsc-hz');
    expect(text).not.toMatch(/Mticks|\dM /);
  });

  it('tasks prints an ns clock in the unit each time reads best', () => {
    const rep = {
      name: 'guest.dat',
      unit: 'ns',
      span: 31_401_600_000,
      cpus: [],
      threads: [
        { pid: 7, comm: 'omp', time: { running: 6_245_000, sleeping: 820_000 }, preemptions: 0 },
      ],
      inconsistencies: 0,
    } as unknown as TasksReport;
    const text = formatTasks(rep);
    expect(text.split('\n')[0]).toBe('guest.dat: span 31.4 s');
    expect(text).toMatch(/6\.245 ms +- +- +820 µs/);
    expect(text).not.toContain('--tsc-hz');
  });
});
