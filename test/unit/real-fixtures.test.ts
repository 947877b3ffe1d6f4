// The real host + guest traces in test/fixtures/real (the lab's captures), checked against the ground truth each
// scenario's meta.json records (event counts from the capture, CPU counts, clocks, vCPU threads).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoadResult, readTraceFile } from '../../src/core/io/read-trace-file';
import type { Trace } from '../../src/core/model/trace';
import { traceInfo } from '../../src/core/report/info';
import {
  HEAVY_SCENARIOS,
  missing,
  REAL,
  REAL_SCENARIOS,
  realScenarios,
  SHARED,
} from './support/fixtures';

const ROOT = REAL;

interface Meta {
  scenario: string;
  clocks: { host: string; guest: string };
  qemu: { vcpu_threads: Record<string, string> };
  event_counts: Record<string, { total: number; by_event: Record<string, number> }>;
}

const SIDES = [
  { side: 'host', file: 'host.txt.gz', cpus: 2, format: 'ftrace-text' },
  { side: 'guest', file: 'guest.txt.gz', cpus: 4, format: 'ftrace-text' },
  { side: 'host_perf_sched', file: 'host.perf-sched.txt.gz', cpus: 2, format: 'perf-script' },
] as const;

const SCENARIOS = realScenarios();

function readMeta(scenario: string): Meta {
  return JSON.parse(readFileSync(path.join(ROOT, scenario, 'meta.json'), 'utf8')) as Meta;
}

/** The vCPU threads (tid -> comm) that appear in the trace's task table under exactly that name. */
function vcpuTasksSeen(t: Trace, threads: Record<string, string>): Record<string, string> {
  const seen: Record<string, string> = {};
  for (let id = 0; id < t.tasks.size; id++) {
    const tid = String(t.tasks.pid(id));
    if (threads[tid] !== undefined && t.tasks.comm(id) === threads[tid]) seen[tid] = threads[tid];
  }
  return seen;
}

describe('real fixtures', () => {
  it('has the scenarios the README describes', () => {
    expect(SCENARIOS).toEqual([...REAL_SCENARIOS]);
  });

  describe.each(SCENARIOS)('%s', (scenario) => {
    const meta = readMeta(scenario);
    const sides = SIDES.filter((s) => existsSync(path.join(ROOT, scenario, s.file)));

    describe.each(sides)('$file', ({ side, file, cpus, format }) => {
      let r: LoadResult;
      let t: Trace;
      beforeAll(async () => {
        r = await readTraceFile(path.join(ROOT, scenario, file));
        expect(r.traces).toHaveLength(1);
        t = r.traces[0]!;
      });

      it('loads with no diagnostics', () => {
        expect(r.format).toBe(format);
        expect(r.compression).toBe('gzip');
        expect(r.diagnostics).toEqual([]);
        expect(t.diagnostics).toEqual([]);
      });

      it('has exactly the event counts of meta.json', () => {
        const truth = meta.event_counts[side]!;
        const info = traceInfo(t);
        expect(info.events.byName).toEqual(truth.by_event);
        expect(info.events.total).toBe(truth.total);
        expect(t.linesRead).toBe(truth.total);
        expect(info.diagnostics).toMatchObject({ errors: 0, warnings: 0, infos: 0 });
      });

      it(`has ${cpus} CPUs`, () => {
        expect(t.cpuCount).toBe(cpus);
        // trace-cmd and tracefs print the count; perf script does not.
        expect(t.cpuCountSource).toBe(format === 'perf-script' ? 'events' : 'header');
      });

      it('has the clock unit of its trace clock', () => {
        const clock = side === 'guest' ? meta.clocks.guest : meta.clocks.host;
        const unit = scenario.endsWith('-tsc') ? 'count' : 'ns';
        expect(clock === 'x86-tsc' ? 'count' : 'ns').toBe(unit); // meta.json agrees with the scenario name
        expect(t.clock.unit).toBe(unit);
        expect(t.clock.resolution).toBe(unit === 'count' ? 1 : 1000);
      });

      if (side !== 'guest') {
        it('names the vCPU threads CPU n/TCG', () => {
          const threads = meta.qemu.vcpu_threads;
          expect(Object.values(threads)).toEqual([
            'CPU 0/TCG',
            'CPU 1/TCG',
            'CPU 2/TCG',
            'CPU 3/TCG',
          ]);
          expect(vcpuTasksSeen(t, threads)).toEqual(threads);
        });
      }
    });
  });

  describe('re-read with 4 KiB chunks', () => {
    it.each([
      ['quiet-passive-local', 'guest.txt.gz', 'guest'],
      ['raw-noisy-passive', 'guest.txt.gz', 'guest'],
    ])('%s/%s gives the same counts', async (scenario, file, side) => {
      const p = path.join(ROOT, scenario, file);
      const [whole, small] = await Promise.all([
        readTraceFile(p),
        readTraceFile(p, { chunkBytes: 4096 }),
      ]);
      const a = traceInfo(whole.traces[0]!);
      const b = traceInfo(small.traces[0]!);
      expect(b.events.byName).toEqual(readMeta(scenario).event_counts[side]!.by_event);
      expect(b).toEqual(a);
      expect(small.diagnostics).toEqual([]);
    });
  });
});

const SHARED_REAL = path.join(SHARED, 'fixtures/real');
const why = missing(SHARED_REAL, "../shared/fixtures/real, the lab's first copy");

/**
 * What this repository added to the lab's captures after the copy (issue #24's second program
 * shape): whole scenario folders and single files, present here only.
 */
const OWN = [
  ...HEAVY_SCENARIOS,
  'capture/scenario_summary_heavy.json',
  'capture/scenarios_heavy.json',
  'capture/sweep.py',
  'dop-truth/timing-heavy.json',
];

/** Documents both have that this repository appended to: the copy's bytes stay their beginning. */
const APPENDED = ['README.md', 'dop-truth/README.md'];

/** Capture scripts both have that this repository extended for the second shape (see git log). */
const EXTENDED = ['capture/postprocess.py', 'capture/timing_table.py'];

describe('the copies in test/fixtures/real', () => {
  // Every file of the lab's captures (not the capture scripts' caches) is a byte-for-byte copy.
  const files = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.parentPath.includes('__pycache__'))
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
      .sort();
  const own = (f: string): boolean => OWN.some((o) => f === o || f.startsWith(`${o}/`));

  it.skipIf(why)(`are the files of ../shared/fixtures/real, unchanged${why ?? ''}`, () => {
    const ours = files(ROOT);
    const theirs = files(SHARED_REAL);
    expect(ours.filter((f) => !own(f))).toEqual(theirs);
    for (const f of theirs) {
      const a = readFileSync(path.join(ROOT, f));
      const b = readFileSync(path.join(SHARED_REAL, f));
      if (APPENDED.includes(f)) expect(a.subarray(0, b.length).equals(b), f).toBe(true);
      else if (!EXTENDED.includes(f)) expect(a.equals(b), f).toBe(true);
    }
  });

  it.skipIf(why)(
    `name every file only this repository has, and the edited ones${why ?? ''}`,
    () => {
      const theirs = new Set(files(SHARED_REAL));
      // Each entry exists here and not there, and the edited ones do differ (else they leave the list).
      for (const o of OWN) {
        expect(existsSync(path.join(ROOT, o)), o).toBe(true);
        expect(existsSync(path.join(SHARED_REAL, o)), o).toBe(false);
      }
      for (const f of [...APPENDED, ...EXTENDED]) {
        expect(theirs.has(f), f).toBe(true);
        expect(
          readFileSync(path.join(ROOT, f)).equals(readFileSync(path.join(SHARED_REAL, f))),
          f,
        ).toBe(false);
      }
    },
  );
});
