// What a .dat says about the host-guest pair: the GUEST option (host file: vCPU -> host task) and
// TIME_SHIFT (guest file: trace-cmd's time sync) are read back exactly and become the analysis'
// vCPU map and clock map, ahead of thread names and estimation.
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { offsetAt } from '../../src/core/correlate/clock-map';
import { writeTraceCmdText } from '../../src/core/export/trace-cmd-text';
import { DatWriteOptions, writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import { tscToNs, tscToNsBig } from '../../src/core/model/time';
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

describe('TSC2NSEC (trace-cmd record -C tsc2nsec)', () => {
  // HIP24's host: a 2.92 GHz TSC.
  const TSC = { mult: 735842807, shift: 31, offset: 0n };

  it('tscToNs is (ticks * mult) >> shift exactly, for products past 2^53 (ns below it)', () => {
    let x = 987654321;
    const rnd = (): number => (x = (x * 1103515245 + 12345) % 2147483648);
    const ticks = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 48 + 12345, 2 ** 53 - 1, 64642412873143];
    for (let k = 0; k < 2000; k++) ticks.push(rnd() * 4194304 + rnd());
    const params: [number, number][] = [
      [TSC.mult, TSC.shift],
      [1717986918, 32],
      [4294967295, 0],
      [1, 40],
      [3000000000, 33],
    ];
    let checked = 0;
    for (const t of ticks)
      for (const [m, sh] of params) {
        const want = tscToNsBig(BigInt(t), m, sh);
        if (want >= 2n ** 53n) continue; // not a timestamp a float64 holds
        expect(BigInt(tscToNs(t, m, sh)), `${t} * ${m} >> ${sh}`).toBe(want);
        checked++;
      }
    expect(checked).toBeGreaterThan(8000);
  });

  it('timestamps are ns when loaded, TSC counts with recordedTicks (for dump)', () => {
    const dat = writeTraceDat(sim.host, { tsc2nsec: TSC });
    const ns = importTraceDat(dat, { name: 'h.dat', decompressors: nodeDecompressors })[0]!;
    const raw = importTraceDat(dat, {
      name: 'h.dat',
      decompressors: nodeDecompressors,
      recordedTicks: true,
    })[0]!;
    expect(ns.clock.unit).toBe('ns');
    expect(ns.dat?.tsc2nsec?.applied).toBe(true);
    expect(raw.clock.unit).toBe('count');
    expect(raw.dat?.tsc2nsec?.applied).toBe(false);
    expect(ns.events.length).toBe(raw.events.length);
    for (let i = 0; i < raw.events.length; i += 97) {
      const ticks = raw.tsBase + BigInt(raw.events.ts(i));
      expect(ns.tsBase + BigInt(ns.events.ts(i))).toBe(tscToNsBig(ticks, TSC.mult, TSC.shift));
    }
  });

  it("a guest's TIME_SHIFT still maps it to the host, in ns: ns(guest ticks + offset)", () => {
    const host = roundTrip(sim.host, { traceId: HOST_ID, tsc2nsec: TSC });
    const guest = roundTrip(sim.guest, {
      traceId: GUEST_ID,
      tsc2nsec: TSC,
      timeShift: timeShift(HOST_ID, [OFF, OFF]),
    });
    const rawGuest = importTraceDat(
      writeTraceDat(sim.guest, {
        traceId: GUEST_ID,
        tsc2nsec: TSC,
        timeShift: timeShift(HOST_ID, [OFF, OFF]),
      }),
      { name: 'g.dat', decompressors: nodeDecompressors, recordedTicks: true },
    )[0]!;
    const a = analyzePair(host, guest);
    expect(a.clock?.method).toBe('trace-cmd');
    expect(a.clock?.unit).toBe('ns');
    for (let i = 0; i < guest.events.length; i += 101) {
      const want = tscToNsBig(
        rawGuest.tsBase + BigInt(rawGuest.events.ts(i)) + OFF,
        TSC.mult,
        TSC.shift,
      );
      const got = offsetAt(a.clock!, guest.tsBase + BigInt(guest.events.ts(i)));
      // The two roundings (guest ns, host ns) put it within a nanosecond.
      const d = guest.tsBase + BigInt(guest.events.ts(i)) + got - want;
      expect(d >= -1n && d <= 1n, `event ${i}: off by ${d} ns`).toBe(true);
    }
  });

  it('a guest loaded as ns still prints as trace-cmd report does, to the microsecond', () => {
    const dat = writeTraceDat(sim.guest, {
      traceId: GUEST_ID,
      tsc2nsec: TSC,
      timeShift: timeShift(HOST_ID, [OFF, OFF + 5000n]),
    });
    const load = (recordedTicks: boolean): string[] => {
      const t = importTraceDat(dat, {
        name: 'g.dat',
        decompressors: nodeDecompressors,
        recordedTicks,
      })[0]!;
      const out: string[] = [];
      writeTraceCmdText(t, (c) => out.push(c));
      return out.join('').split('\n');
    };
    const exact = load(true); // dump's way: the ticks shifted, then converted
    const fromNs = load(false);
    expect(fromNs.length).toBe(exact.length);
    const us = (l: string): number => Number(/ (\d+\.\d{6}): /.exec(l)?.[1] ?? NaN) * 1e6;
    let same = 0;
    for (let i = 1; i < exact.length - 1; i++) {
      expect(Math.abs(us(fromNs[i]!) - us(exact[i]!)), `line ${i}`).toBeLessThanOrEqual(1.01);
      if (fromNs[i] === exact[i]) same++;
    }
    expect(same).toBeGreaterThan(0.99 * (exact.length - 2));
  });
});
