// What a .dat says about the host-guest pair: the GUEST option (host file: vCPU -> host task) and
// TIME_SHIFT (guest file: trace-cmd's time sync) are read back exactly and become the analysis'
// vCPU map and clock map, ahead of thread names and estimation.
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { offsetAt } from '../../src/core/correlate/clock-map';
import { DatWriteOptions, writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import type { Trace } from '../../src/core/model/trace';
import { PRESETS } from '../../src/core/sim/presets';
import { simulateTraces } from '../../src/core/sim/record';

const sim = simulateTraces({ ...PRESETS['small']!.config, ...PRESETS['small']!.coRunner });
const N = sim.guest.cpuCount;
// A deliberately rotated map: the recorded option must win over the `CPU n/KVM` thread names.
const ROTATED = Array.from({ length: N }, (_, v) => sim.truth.vcpuTids[(v + 1) % N]!);

function roundTrip(t: Trace, opts: DatWriteOptions): Trace {
  return importTraceDat(writeTraceDat(t, opts), {
    name: 'x.dat',
    decompressors: nodeDecompressors,
  })[0]!;
}

function guestSpan(): [bigint, bigint] {
  const g = sim.guest;
  return [g.tsBase, g.tsBase + BigInt(g.events.ts(g.events.length - 1))];
}

function timeShift(
  peer: bigint,
  offsets: [bigint, bigint],
): NonNullable<DatWriteOptions['timeShift']> {
  const [a, b] = guestSpan();
  return {
    peerTraceId: peer,
    flags: 0,
    cpus: Array.from({ length: N }, () => ({
      times: [a, b],
      offsets,
      scalings: [1n, 1n],
      fractions: [0, 0],
    })),
  };
}

const HOST_ID = 0xabcdef0123n;
const GUEST_ID = 0x5946e3978aaa020fn;
const OFF = BigInt(sim.truth.offsetNs);

describe('.dat options', () => {
  it('reads back GUEST, TRACEID and TIME_SHIFT as written', () => {
    const host = roundTrip(sim.host, {
      traceId: HOST_ID,
      guests: [
        {
          name: 'vm1',
          traceId: GUEST_ID,
          vcpus: ROTATED.map((hostPid, vcpu) => ({ vcpu, hostPid })),
        },
      ],
    });
    expect(host.dat?.traceId).toBe(HOST_ID.toString(16));
    expect(host.dat?.guests).toEqual([
      {
        name: 'vm1',
        traceId: GUEST_ID.toString(16),
        vcpus: ROTATED.map((hostPid, vcpu) => ({ vcpu, hostPid })),
      },
    ]);
    const guest = roundTrip(sim.guest, {
      traceId: GUEST_ID,
      timeShift: timeShift(HOST_ID, [OFF, OFF + 7n]),
    });
    const [a, b] = guestSpan();
    expect(guest.dat?.timeShift?.peerTraceId).toBe(HOST_ID.toString(16));
    expect(guest.dat?.timeShift?.cpus.length).toBe(N);
    expect(guest.dat?.timeShift?.cpus[0]).toEqual({
      times: [String(a), String(b)],
      offsets: [String(OFF), String(OFF + 7n)],
      scalings: ['1', '1'],
      fractions: [0, 0],
    });
  });

  it('GUEST is the vCPU map and TIME_SHIFT the clock map of the analysis', () => {
    const host = roundTrip(sim.host, {
      traceId: HOST_ID,
      guests: [
        {
          name: 'vm1',
          traceId: GUEST_ID,
          vcpus: ROTATED.map((hostPid, vcpu) => ({ vcpu, hostPid })),
        },
      ],
    });
    const guest = roundTrip(sim.guest, {
      traceId: GUEST_ID,
      timeShift: timeShift(HOST_ID, [OFF, OFF + 1000n]),
    });
    const a = analyzePair(host, guest);
    const vcpus = a.vcpuMap.chosen!.vcpus;
    expect(vcpus.map((v) => v.hostTid)).toEqual(ROTATED);
    expect(vcpus.every((v) => v.method === 'trace-cmd-guest')).toBe(true);
    expect(a.clock?.method).toBe('trace-cmd');
    const [g0, g1] = guestSpan();
    expect(offsetAt(a.clock!, g0)).toBe(OFF);
    // The drift between the two samples: 1000 ns over the guest span.
    expect(Number(offsetAt(a.clock!, g1) - OFF)).toBeCloseTo(1000, 0);
  });

  it('a TIME_SHIFT measured against another host trace is not used, and says so', () => {
    const host = roundTrip(sim.host, { traceId: HOST_ID });
    const guest = roundTrip(sim.guest, {
      traceId: GUEST_ID,
      timeShift: timeShift(HOST_ID + 1n, [OFF, OFF]),
    });
    const a = analyzePair(host, guest);
    expect(a.clock?.method).not.toBe('trace-cmd');
    expect(a.reasoning.join('\n')).toMatch(/TIME_SHIFT was measured against trace/);
    // Without GUEST the thread names give the vCPU map.
    expect(a.vcpuMap.chosen!.vcpus.map((v) => v.hostTid)).toEqual(sim.truth.vcpuTids);
  });

  it('applies scaling and fraction bits: host = (guest * scaling >> fraction) + offset', () => {
    const [a, b] = guestSpan();
    const host = roundTrip(sim.host, { traceId: HOST_ID });
    const guest = roundTrip(sim.guest, {
      timeShift: {
        peerTraceId: HOST_ID,
        flags: 0,
        cpus: [{ times: [a, b], offsets: [OFF, OFF], scalings: [3n, 3n], fractions: [1, 1] }],
      },
    });
    const r = analyzePair(host, guest);
    expect(r.clock?.method).toBe('trace-cmd');
    expect(r.clock!.hostRef).toBe(((a * 3n) >> 1n) + OFF);
    expect(r.clock!.slope).toBeCloseTo(1.5, 9);
  });
});
