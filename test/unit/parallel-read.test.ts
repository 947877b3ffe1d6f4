// Reading a text trace in parts on worker threads must give exactly the trace a single thread
// reads: same events, tasks, names, states, latencies, texts, timestamps, and diagnostics on the
// same line numbers. The worker is bundled here with esbuild, as the build does.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleParseWorker } from './support/parse-worker';
import { readInParts, splitAtLines } from '../../src/core/io/parallel-read';
import { createTextImporter } from '../../src/core/ingest/index';
import type { ImportOptions } from '../../src/core/ingest/importer';
import type { Trace } from '../../src/core/model/trace';
import { buildTimelines, startTimelines } from '../../src/core/timeline/build';
import { readTraceFile, ReadOptions } from '../../src/core/io/read-trace-file';
import { writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { PRESETS } from '../../src/core/sim/presets';
import { simulateTraces } from '../../src/core/sim/record';
import { dumpEvents, dumpTrace } from './support/dump';
import { REAL, realScenarios } from './support/fixtures';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';

const dir = mkdtempSync(path.join(tmpdir(), 'vl-par-'));
const worker = path.join(dir, 'parse-worker.js');
const BUNDLED = path.resolve(__dirname, '../fixtures/real/quiet-passive-local');

beforeAll(async () => {
  await bundleParseWorker(worker);
}, 60_000);

async function both(file: string, threads: number): Promise<[string[], string[]]> {
  const par: ReadOptions = { threads, workerScript: worker, parallelMinBytes: 0 };
  const one = await readTraceFile(file, { threads: 1 });
  const many = await readTraceFile(file, par);
  expect(many.diagnostics).toEqual([]);
  expect(many.format).toBe(one.format);
  return [one.traces.map(dumpTrace), many.traces.map(dumpTrace)];
}

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('parallel reading', () => {
  it('a real trace-cmd report: identical to one thread, 2 and 3 parts', async () => {
    const text = gunzipSync(readFileSync(path.join(BUNDLED, 'guest.txt.gz'))).toString('utf8');
    const f = write('guest.txt', text);
    for (const threads of [2, 3]) {
      const [one, many] = await both(f, threads);
      expect(many).toEqual(one);
    }
  });

  it("each event's line (for editors) is the line one thread sees, part after part", async () => {
    const text = gunzipSync(readFileSync(path.join(BUNDLED, 'guest.txt.gz'))).toString('utf8');
    // Blank and comment lines between events, so lines and event indexes differ.
    const f = write('guest-lines.txt', text.replace(/\n(?=.{0,40}sched_wakeup)/g, '\n\n'));
    const one = await readTraceFile(f, { threads: 1, eventLines: true });
    const many = await readTraceFile(f, {
      threads: 3,
      workerScript: worker,
      parallelMinBytes: 0,
      eventLines: true,
    });
    const a = one.traces[0]!.eventLines!;
    const b = many.traces[0]!.eventLines!;
    expect(a.length).toBe(one.traces[0]!.events.length);
    expect(a.at(-1)).toBeGreaterThan(a.length);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('tracefs text with latency and TGID columns, markers, vruntime, kvm and bad lines', async () => {
    const lines = ['# tracer: nop', '#', '# entries-in-buffer/entries-written: 40/40   #P:4'];
    for (let k = 0; k < 400; k++) {
      const t = (375 + k / 1000).toFixed(6);
      const lat = ['d..2.', 'dNh2.', 'd.s4.', '.....'][k % 4];
      lines.push(
        `    guest_run.sh-610     (    610) [00${k % 4}] ${lat}   ${t}: sched_stat_runtime: comm=guest_run.sh pid=610 runtime=${3328 + k} [ns] vruntime=${216980793544 + k} [ns]`,
      );
      lines.push(
        `          <idle>-0       (-------) [00${k % 4}] d..2.   ${t}: sched_switch: prev_comm=swapper/${k % 4} prev_pid=0 prev_prio=120 prev_state=${k % 3 ? 'R' : 'R+'} ==> next_comm=w${k % 7} next_pid=${700 + (k % 7)} next_prio=120`,
      );
      if (k % 50 === 7) lines.push('this line is not an event');
      if (k % 60 === 9)
        lines.push(
          `        syncping-613     (    613) [001] .....   ${t}: tracing_mark_write: syncping seq=${k} phase=pre ünïcode`,
        );
      if (k % 70 === 3)
        lines.push(
          `       CPU 0/KVM-3315    (   3310) [001] d..1.   ${t}: kvm_exit: vcpu 0 reason ${k % 2 ? 'HLT' : 'EPT_VIOLATION'} rip 0xffffffff81b5c0d4 info1 0x0 info2 0x0`,
        );
    }
    const f = write('raw.txt', lines.join('\n') + '\n');
    const [one, many] = await both(f, 3);
    expect(many).toEqual(one);
    expect(one[0]).toMatch(/diag VL1001 error line=\d+/);
  });

  it('trace-cmd multi-input output keeps one trace per input', async () => {
    // trace-cmd right-aligns the file names to the longest (`%*s: `).
    const lines = [' host.dat: cpus=2', 'guest.dat: cpus=4'];
    for (let k = 0; k < 300; k++) {
      const t = (100 + k / 1000).toFixed(6);
      lines.push(
        ` host.dat:           <idle>-0     [000]   ${t}: sched_waking:         comm=CPU 0/TCG pid=3315 prio=120 target_cpu=000`,
      );
      lines.push(
        `guest.dat:      omp_barrier-562   [003]   ${t}: sched_switch:         omp_barrier:562 [120] S ==> swapper/3:0 [120]`,
      );
    }
    const f = write('multi.txt', lines.join('\n') + '\n');
    const [one, many] = await both(f, 4);
    expect(one).toHaveLength(2);
    expect(one.map((d) => d.split('\n').filter((l) => / \[\d\] /.test(l)).length)).toEqual([
      300, 300,
    ]);
    expect(many).toEqual(one);
  });

  it('diagnostics of a later part with no events of its own join the first trace', async () => {
    const lines = [' host.dat: cpus=2', 'guest.dat: cpus=4'];
    for (let k = 0; k < 300; k++) {
      const t = (100 + k / 1000).toFixed(6);
      lines.push(
        `guest.dat:      omp_barrier-562   [003]   ${t}: sched_switch:         omp_barrier:562 [120] S ==> swapper/3:0 [120]`,
      );
      if (k % 40 === 5) lines.push('garbage that is no event');
    }
    const f = write('multi-bad.txt', lines.join('\n') + '\n');
    const [one, many] = await both(f, 4);
    expect(many).toEqual(one);
  });

  it('raw fields with numeric states, out of time order: one kernel table and one VL1005, as one thread', async () => {
    // The first half shows only values a kernel >= 4.14 could print; 4096 near the end proves an
    // older one, so 64 is `x` everywhere, and the second half's times go back before the first's.
    const line = (sec: number, us: number, state: number): string =>
      `              sh-1642  [002]   ${sec}.${String(us).padStart(6, '0')}: sched_switch:          prev_comm=sh prev_pid=1642 prev_prio=120 prev_state=${state} next_comm=kworker/u12:1 next_pid=46 next_prio=120`;
    const lines = ['version = 6', 'cpus=6'];
    for (let k = 0; k < 3000; k++) lines.push(line(100, k, k % 2 === 0 ? 64 : 1));
    for (let k = 0; k < 3000; k++) lines.push(line(50, k, k === 2990 ? 4096 : 2));
    const f = write('raw-states.txt', lines.join('\n') + '\n');
    for (const threads of [2, 3]) {
      const [one, many] = await both(f, threads);
      expect(many).toEqual(one);
      expect(one[0]).toContain(' state=x ');
      expect(one[0]!.match(/VL1005/g)).toHaveLength(1);
    }
  });

  it('perf sched script', async () => {
    const src = path.resolve(
      __dirname,
      '../fixtures/real/raw-noisy-passive/host.perf-sched.txt.gz',
    );
    const text =
      gunzipSync(readFileSync(src)).toString('utf8').split('\n').slice(0, 20000).join('\n') + '\n';
    const f = write('perf.txt', text);
    const [one, many] = await both(f, 2);
    expect(many).toEqual(one);
  });

  it('a .dat file on a worker: identical to one thread, diagnostics included', async () => {
    const t = simulateTraces({ ...PRESETS['small']!.config, ...PRESETS['small']!.coRunner }).host;
    const bytes = writeTraceDat(t);
    for (const [name, data] of [
      ['sim.dat', bytes],
      ['cut.dat', bytes.subarray(0, bytes.length - 3000)],
    ] as const) {
      const f = path.join(dir, name);
      writeFileSync(f, data);
      const one = await readTraceFile(f, { threads: 1 });
      const many = await readTraceFile(f, { threads: 2, workerScript: worker });
      expect(many.diagnostics).toEqual([]);
      expect(many.format).toBe('trace-cmd-dat');
      expect(many.traces.map(dumpTrace)).toEqual(one.traces.map(dumpTrace));
      expect(many.traces.map((x) => x.diagnostics)).toEqual(one.traces.map((x) => x.diagnostics));
      expect(many.traces[0]!.dat).toEqual(one.traces[0]!.dat);
    }
  });

  const realDats = realScenarios().flatMap((d) =>
    ['host.dat', 'guest.dat'].map((f) => path.join(REAL, d, f)).filter((f) => existsSync(f)),
  );
  it('real .dat files read by CPU groups on workers: the same trace as one thread', async () => {
    // Two hosts (2 CPUs: 2 groups) and a guest (4 CPUs: 3 groups).
    const some = [
      ...realDats.filter((f) => f.endsWith('host.dat')).slice(0, 2),
      ...realDats.filter((f) => f.endsWith('guest.dat')).slice(0, 1),
    ];
    for (const f of some) {
      const one = await readTraceFile(f, { threads: 1 });
      const want = one.traces.map(dumpTrace);
      for (const threads of [3]) {
        const many = await readTraceFile(f, {
          threads,
          workerScript: worker,
          parallelMinBytes: 0,
        });
        expect(many.diagnostics).toEqual([]);
        expect(many.traces.map(dumpTrace)).toEqual(want);
        expect(many.traces[0]!.dat).toEqual(one.traces[0]!.dat);
      }
    }
  }, 120_000);

  it("a .dat read by CPU groups names an owner missing from the saved cmdlines from another CPU's earlier switch", async () => {
    // Pid 77 is not in the saved cmdlines; a switch on CPU 0 names it "worker" before it owns
    // an event on CPU 1: trace-cmd report (and one thread) call that owner "worker", not "<...>".
    const L = (comm: string, pid: number, cpu: number, t: string, rest: string): string =>
      `${`${comm}-${pid}`.padStart(16)} [00${cpu}] ${t}: ${rest}\n`;
    const text =
      'cpus=2\n' +
      L(
        '<idle>',
        0,
        1,
        '1.000000',
        'sched_waking:         comm=idle2 pid=5 prio=120 target_cpu=001',
      ) +
      L(
        'worker',
        77,
        0,
        '1.000001',
        'sched_switch:         worker:77 [120] S ==> swapper/0:0 [120]',
      ) +
      L('<...>', 77, 1, '1.000002', 'sched_waking:         comm=x pid=9 prio=120 target_cpu=001') +
      L('<idle>', 0, 0, '1.000003', 'sched_waking:         comm=y pid=10 prio=120 target_cpu=000');
    const t = importFtraceText(text)[0]!;
    const f = path.join(dir, 'cmdlines.dat');
    writeFileSync(f, writeTraceDat(t, { cmdlinesWithout: new Set([77]) }));
    const one = await readTraceFile(f, { threads: 1 });
    expect(dumpEvents(one.traces[0]!)[2]).toContain('sched_waking worker:77');
    const many = await readTraceFile(f, { threads: 2, workerScript: worker, parallelMinBytes: 0 });
    expect(many.traces.map(dumpTrace)).toEqual(one.traces.map(dumpTrace));
  });

  it('a .dat read by CPU groups stops where the memory cap stopped a group, with VL1014', async () => {
    const f = path.join(REAL, 'quiet-passive-local/host.dat');
    const opts = { threads: 2, workerScript: worker, parallelMinBytes: 0, memoryCapBytes: 1 };
    const r = await readTraceFile(f, opts);
    const t = r.traces[0]!;
    expect(t.diagnostics.some((d) => d.code === 'VL1014')).toBe(true);
    const full = (await readTraceFile(f, { threads: 1 })).traces[0]!;
    expect(t.events.length).toBeGreaterThan(0);
    expect(t.events.length).toBeLessThan(full.events.length);
    // What is kept is the start of the whole trace, in order, with nothing from later on.
    const got = dumpTrace(t)
      .split('\n')
      .filter((l) => /^\d/.test(l));
    const all = dumpTrace(full)
      .split('\n')
      .filter((l) => /^\d/.test(l));
    expect(got).toEqual(all.slice(0, got.length));
  });

  it('falls back to one thread, with a warning, when the worker cannot run', async () => {
    const f = write(
      'small.txt',
      'cpus=1\n  a-1  [000]   1.000001: sched_waking:         comm=b pid=2 prio=120 target_cpu=000\n',
    );
    const r = await readTraceFile(f, {
      threads: 2,
      parallelMinBytes: 0,
      workerScript: path.join(dir, 'missing.js'),
    });
    expect(r.traces[0]!.events.length).toBe(1);
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([['VL1010', 'warning']]);
  });
});

describe('reading in more parts than threads (parts joined while others are read)', () => {
  const guest = (): string =>
    gunzipSync(readFileSync(path.join(BUNDLED, 'guest.txt.gz'))).toString('utf8');
  /** readInParts as readTraceFile calls it, with `parts` parts on `threads` workers. */
  const inParts = async (
    f: string,
    parts: number,
    threads: number,
    opts: ImportOptions,
    script = worker,
    onJoined?: (t: Trace[]) => void,
  ): Promise<Trace[]> => {
    const text = readFileSync(f, 'utf8');
    const probe = createTextImporter('ftrace-text', opts);
    const head = text.slice(0, 64 * 1024);
    probe.feed(head.slice(0, head.lastIndexOf('\n') + 1));
    const r = await readInParts(
      f,
      statSync(f).size,
      'ftrace-text',
      opts,
      probe.resumeState(),
      parts,
      script,
      onJoined !== undefined ? { onJoined } : {},
      threads,
    );
    return r.traces;
  };

  it('perf record -g output, frames indented with spaces, cut inside callchains: as one thread', async () => {
    const sample = readFileSync(
      path.resolve(__dirname, '../fixtures/formats/perf-record-g.txt'),
      'utf8',
    ).replaceAll('\t', '        ');
    const text = sample + sample.slice(sample.indexOf('#\n') + 2).repeat(40);
    const f = write('perf-g.txt', text);
    const opts: ImportOptions = { name: 'perf-g' };
    const one = createTextImporter('perf-script', opts);
    one.feed(text);
    const want = one.end().map(dumpTrace);
    expect(want[0]).not.toContain('VL1001');
    const r = await readInParts(f, statSync(f).size, 'perf-script', opts, {}, 7, worker, {}, 2);
    expect(r.traces.map(dumpTrace)).toEqual(want);
  });

  it('7 parts on 2 workers: the trace one thread reads, joined part after part in file order', async () => {
    const f = write('guest-7.txt', guest());
    // The first part answers last of the first two, so the second waits for it.
    const slow = path.join(dir, 'slow-first-worker.js');
    writeFileSync(
      slow,
      `const { parentPort } = require('node:worker_threads');
const on = parentPort.on.bind(parentPort);
parentPort.on = (ev, fn) => on(ev, ev !== 'message' ? fn : (req) => setTimeout(() => fn(req), req.start === 0 ? 500 : 0));
require(${JSON.stringify(worker)});`,
    );
    const one = await readTraceFile(f, { threads: 1 });
    const seen: number[] = [];
    let first: Trace | undefined;
    let build: ReturnType<typeof startTimelines> | undefined;
    const traces = await inParts(f, 7, 2, { name: 'guest-7.txt' }, slow, (t) => {
      first ??= t[0];
      expect(t[0]).toBe(first);
      seen.push(t[0]!.events.length);
      build ??= startTimelines(t[0]!, undefined, true);
      expect(build.feed()).toBe(true);
    });
    expect(traces.map(dumpTrace)).toEqual(one.traces.map(dumpTrace));
    expect(seen).toHaveLength(7);
    for (let k = 1; k < seen.length; k++) expect(seen[k]!).toBeGreaterThan(seen[k - 1]!);
    expect(seen.at(-1)).toBe(one.traces[0]!.events.length);
    // Timelines built as the parts came are those of the whole trace.
    const grown = build!.finish()!;
    const whole = buildTimelines(one.traces[0]!);
    expect(Array.from(grown.cpus.start)).toEqual(Array.from(whole.cpus.start));
    expect(Array.from(grown.tasks.state)).toEqual(Array.from(whole.tasks.state));
    expect(Array.from(grown.tasks.totals)).toEqual(Array.from(whole.tasks.totals));
  });

  it('a part stopped by the memory cap ends the file there: no later part is joined', async () => {
    // The cap is checked every 65,536 events: the host's parts are bigger than that.
    const host = gunzipSync(readFileSync(path.join(BUNDLED, 'host.txt.gz'))).toString('utf8');
    const f = write('host-cap.txt', host);
    const full = (await readTraceFile(f, { threads: 1 })).traces[0]!;
    // Both parts at once on two workers, and one after the other on one worker (which still
    // has a part to take when the first stops).
    for (const threads of [2, 1]) {
      let joins = 0;
      const [t] = await inParts(
        f,
        2,
        threads,
        { name: 'host-cap.txt', memoryCapBytes: 1 },
        worker,
        () => joins++,
      );
      expect(t!.diagnostics.some((d) => d.code === 'VL1014')).toBe(true);
      expect(joins).toBe(1);
      expect(t!.events.length).toBeGreaterThan(0);
      expect(t!.events.length).toBeLessThan(full.events.length / 2);
      const got = dumpEvents(t!);
      expect(got).toEqual(dumpEvents(full).slice(0, got.length));
    }
  });

  it('a worker that fails fails the read', async () => {
    const f = write('guest-fail.txt', guest());
    const bad = path.join(dir, 'throws.js');
    writeFileSync(
      bad,
      "require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom'); });",
    );
    await expect(
      readInParts(f, statSync(f).size, 'ftrace-text', {}, {}, 5, bad, {}, 2),
    ).rejects.toThrow(/boom|exited/);
  });
});

describe('splitAtLines', () => {
  it('cuts just after newlines, in order, covering the file', async () => {
    const text =
      Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}`).join('\n') + '\n';
    const f = write('lines.txt', text);
    const cuts = await splitAtLines(f, text.length, 5);
    expect(cuts[0]).toBe(0);
    expect(cuts[cuts.length - 1]).toBe(text.length);
    expect(cuts).toHaveLength(6);
    for (const c of cuts.slice(1, -1)) expect(text[c - 1]).toBe('\n');
    for (let k = 1; k < cuts.length; k++) expect(cuts[k]!).toBeGreaterThan(cuts[k - 1]!);
  });

  it('gives fewer parts than asked when the file has too few lines', async () => {
    const f = write('one-line.txt', 'just one line without a newline');
    expect(await splitAtLines(f, 31, 4)).toEqual([0, 31]);
  });
});
