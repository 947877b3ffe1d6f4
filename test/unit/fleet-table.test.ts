// The runs table of Analyze Folder of Traces…: a pair's row from its analysis, the cells people
// read, and the sorting the webview's headings do.
import { describe, expect, it } from 'vitest';
import type { PairAnalysis } from '../../src/core/analyze/types';
import {
  FLEET_COLUMNS,
  fleetCells,
  fleetRow,
  sortFleetRows,
  type FleetRow,
  type FleetRunRow,
} from '../../src/core/view/fleet-table';

function run(name: string, over: Partial<FleetRunRow> = {}): FleetRunRow {
  return {
    ok: true,
    run: name,
    hostFile: `/data/${name}/host.dat`,
    guestFile: `/data/${name}/guest.dat`,
    unit: 'ns',
    vcpus: 4,
    threads: 8,
    lostNs: 1e6,
    vcpuTimeNs: 4e9,
    preemptedNs: 4e8,
    preemptedShare: 0.1,
    advice: { threads: 6, waitPolicy: 'passive', predictedSpeedup: 1.25 },
    warnings: [],
    ...over,
  };
}
const failed = (name: string): FleetRow => ({
  ok: false,
  run: name,
  hostFile: `/data/${name}/host.txt`,
  guestFile: `/data/${name}/guest.txt`,
  reason: `/data/${name}/host.txt: no events (VL1001 not a trace line)`,
});

describe("a pair's row", () => {
  // Only what fleetRow reads: two vCPUs' state times, the guest threads' stalls, the advice.
  const a = {
    host: { clock: { unit: 'ns' } },
    vcpuMap: { chosen: { vcpus: [{}, {}] } },
    program: { pids: [10, 11, 12] },
    states: {
      time: [
        { running: 600, preempted: 300, waiting: 50, halted: 40, vmm: 5, blocked: 5, unknown: 0 },
        { running: 900, preempted: 100, waiting: 0, halted: 0, vmm: 0, blocked: 0, unknown: 0 },
      ],
    },
    stalls: { byGuestThread: [{ lost: 250 }, { lost: 125 }] },
    advice: { dop: 2, waitPolicy: 'passive', predictedSpeedup: 1.5 },
  } as unknown as PairAnalysis;

  it('sums the vCPU time over every state and the preempted part of it', () => {
    const r = fleetRow(a, { run: 'x', hostFile: 'h', guestFile: 'g' });
    expect(r.vcpuTimeNs).toBe(2000);
    expect(r.preemptedNs).toBe(400);
    expect(r.preemptedShare).toBe(0.2);
  });

  it("sums the guest threads' stalls as lost time, and takes vCPUs, threads and advice", () => {
    const r = fleetRow(a, { run: 'x', hostFile: 'h', guestFile: 'g' });
    expect(r.lostNs).toBe(375);
    expect(r.vcpus).toBe(2);
    expect(r.threads).toBe(3);
    expect(r.advice).toEqual({ threads: 2, waitPolicy: 'passive', predictedSpeedup: 1.5 });
  });

  it('has no preempted share without vCPU time, and no threads or advice without a program', () => {
    const bare = { ...a, states: undefined, program: undefined, advice: undefined } as PairAnalysis;
    const r = fleetRow(bare, { run: 'x', hostFile: 'h', guestFile: 'g' });
    expect(r.preemptedShare).toBeNull();
    expect(r.threads).toBeNull();
    expect(r.advice).toBeNull();
    expect(fleetCells(r).preempted).toBe('–');
  });
});

describe('the cells', () => {
  it('read durations, shares and advice as people read them', () => {
    const c = fleetCells(run('a', { lostNs: 6_245_000, preemptedShare: 0.1234 }));
    expect(c).toEqual({
      run: 'a',
      files: 'host.dat / guest.dat',
      vcpus: '4',
      threads: '8',
      lost: '6.245 ms',
      preempted: '12.3 %',
      advice: '6 threads, passive',
      gain: '1.25×',
    });
    expect(Object.keys(c)).toEqual(FLEET_COLUMNS.map((x) => x.key));
  });

  it('give ticks for a counting clock and a failed pair its reason', () => {
    expect(fleetCells(run('a', { unit: 'count', lostNs: 12345 })).lost).toBe('12,345 ticks');
    expect(fleetCells(failed('b')).advice).toBe(
      'failed: /data/b/host.txt: no events (VL1001 not a trace line)',
    );
  });
});

describe('sorting', () => {
  const rows: FleetRow[] = [
    run('b', { lostNs: 5e6, preemptedShare: 0.3 }),
    failed('a'),
    run('c', { lostNs: 1e6, preemptedShare: 0.05, advice: null }),
    run('d', { lostNs: 9e6, preemptedShare: 0.2 }),
    run('e', { lostNs: 5e6, preemptedShare: 0.01 }),
  ];
  const names = (r: FleetRow[]): string[] => r.map((x) => x.run);

  it('orders numbers by value both ways, ties by run name', () => {
    expect(names(sortFleetRows(rows, 'lost', 'desc'))).toEqual(['d', 'b', 'e', 'c', 'a']);
    expect(names(sortFleetRows(rows, 'lost', 'asc'))).toEqual(['c', 'b', 'e', 'd', 'a']);
    expect(names(sortFleetRows(rows, 'preempted', 'desc'))).toEqual(['b', 'd', 'c', 'e', 'a']);
  });

  it('keeps rows without a value (a failed pair, no advice) last in either direction', () => {
    expect(names(sortFleetRows(rows, 'gain', 'asc'))).toEqual(['b', 'd', 'e', 'c', 'a']);
    expect(names(sortFleetRows(rows, 'gain', 'desc'))).toEqual(['b', 'd', 'e', 'c', 'a']);
  });

  it('sorts text columns by name, failed pairs among the others', () => {
    expect(names(sortFleetRows(rows, 'run', 'asc'))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(names(sortFleetRows(rows, 'run', 'desc'))).toEqual(['e', 'd', 'c', 'b', 'a']);
  });

  it('leaves the rows it was given as they were', () => {
    const before = names(rows);
    sortFleetRows(rows, 'lost', 'desc');
    expect(names(rows)).toEqual(before);
  });
});
