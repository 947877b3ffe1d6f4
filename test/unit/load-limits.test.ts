// Loading under limits: the memory cap stops a load with VL1014 and keeps the events before it
// (one thread, parts on workers, gzip, .dat); cancelling returns no traces with VL1015 and
// terminates the workers; progress is reported in order up to the file's size; a worker that
// dies is reported instead of waited for. The inputs are the bundled real guest trace repeated.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleParseWorker } from './support/parse-worker';
import { writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { LoadProgress, readTraceFile, ReadOptions } from '../../src/core/io/read-trace-file';
import { DIAG } from '../../src/core/model/diagnostics';

const dir = mkdtempSync(path.join(tmpdir(), 'vl-limits-'));
const worker = path.join(dir, 'parse-worker.js');
const GUEST = path.resolve(__dirname, '../fixtures/real/quiet-passive-local/guest.txt.gz');
let big = ''; // the real guest report text, event lines repeated 8x with shifted timestamps
let bigEvents = 0;

beforeAll(async () => {
  await bundleParseWorker(worker);
  const lines = gunzipSync(readFileSync(GUEST)).toString('utf8').split('\n');
  const head = lines.filter((l) => l.startsWith('cpus='));
  const body = lines.filter((l) => /\]\s+\d+\.\d{6}:/.test(l));
  const out = [...head];
  for (let k = 0; k < 8; k++) {
    for (const l of body) {
      out.push(
        l.replace(/(\s)(\d+)\.(\d{6}):/, (_m, sp: string, s: string, f: string) => {
          return `${sp}${Number(s) + 20 * k}.${f}:`;
        }),
      );
    }
  }
  bigEvents = out.length - head.length;
  big = out.join('\n') + '\n';
  writeFileSync(path.join(dir, 'big.txt'), big);
  writeFileSync(path.join(dir, 'big.txt.gz'), gzipSync(big));
}, 120_000);

const file = (n: string): string => path.join(dir, n);
const PAR: ReadOptions = { threads: 3, workerScript: '', parallelMinBytes: 0 };

function capDiag(r: Awaited<ReturnType<typeof readTraceFile>>) {
  return r.traces.flatMap((t) => t.diagnostics).find((d) => d.code === DIAG.memoryCap);
}

describe('memory cap', () => {
  const CAP = 4 << 20; // the whole file needs ~24 B x 480k events = 11.5 MB of columns alone

  it('stops one-thread text loading at the cap, keeping the events before it, with the line', async () => {
    const all = await readTraceFile(file('big.txt'), { threads: 1 });
    expect(all.traces[0]!.events.length).toBe(bigEvents);
    const r = await readTraceFile(file('big.txt'), { threads: 1, memoryCapBytes: CAP });
    const t = r.traces[0]!;
    const d = capDiag(r);
    expect(d?.severity).toBe('error');
    expect(d?.message).toMatch(
      /stopped here at the memory cap \(4 MiB\): the \d+ events before it/,
    );
    expect(t.events.length).toBeGreaterThan(65_536);
    expect(t.events.length).toBeLessThan(bigEvents / 2);
    // What was kept is the file's beginning, event for event.
    for (const i of [0, 1000, t.events.length - 1]) {
      expect(t.events.ts(i)).toBe(all.traces[0]!.events.ts(i));
      expect(t.events.type(i)).toBe(all.traces[0]!.events.type(i));
    }
    expect(d!.line).toBeGreaterThanOrEqual(t.events.length);
  });

  it('checks the cap every 65,536 events, even a cap the first event is over', async () => {
    const r = await readTraceFile(file('big.txt'), { threads: 1, memoryCapBytes: 1 });
    expect(capDiag(r)?.line).toBeGreaterThan(65_536);
    expect(r.traces[0]!.events.length).toBeGreaterThanOrEqual(65_536);
    expect(r.traces[0]!.events.length).toBeLessThan(bigEvents / 2);
  });

  it('stops parallel parts at the cap and drops the parts after the one that stopped', async () => {
    const r = await readTraceFile(file('big.txt'), {
      ...PAR,
      workerScript: worker,
      memoryCapBytes: CAP,
    });
    const t = r.traces[0]!;
    expect(r.diagnostics).toEqual([]);
    expect(capDiag(r)?.message).toMatch(/memory cap \(4 MiB\)/);
    expect(capDiag(r)?.line).toBeGreaterThan(t.events.length);
    expect(t.events.length).toBeLessThan(bigEvents / 2);
    // In time order: the kept events are a prefix, not a prefix plus later parts.
    for (let i = 1; i < t.events.length; i++)
      if (t.events.ts(i) < t.events.ts(i - 1)) throw new Error(`out of order at ${i}`);
    expect(t.events.ts(t.events.length - 1) - t.events.ts(0)).toBeLessThan(70e9);
  });

  it('stops gzip text at the cap', async () => {
    const r = await readTraceFile(file('big.txt.gz'), { memoryCapBytes: CAP });
    expect(capDiag(r)?.line).toBeGreaterThan(65_536);
    expect(r.traces[0]!.events.length).toBeLessThan(bigEvents / 2);
  });

  it('stops a .dat at the cap (on a worker and on this thread), naming a byte offset', async () => {
    const all = await readTraceFile(file('big.txt'), { threads: 1 });
    writeFileSync(file('big.dat'), writeTraceDat(all.traces[0]!));
    for (const o of [{ threads: 2, workerScript: worker }, { threads: 1 }]) {
      const r = await readTraceFile(file('big.dat'), { ...o, memoryCapBytes: CAP });
      const d = capDiag(r);
      expect(d?.message).toMatch(/stopped at byte \d+ at the memory cap \(4 MiB\)/);
      expect(d?.offset).toBeGreaterThan(0);
      expect(r.traces[0]!.events.length).toBeLessThan(bigEvents / 2);
      expect(r.traces[0]!.events.length).toBeGreaterThan(65_536);
    }
  });

  it('does nothing when the trace fits', async () => {
    const r = await readTraceFile(file('big.txt'), { threads: 1, memoryCapBytes: 1 << 30 });
    expect(capDiag(r)).toBeUndefined();
    expect(r.traces[0]!.events.length).toBe(bigEvents);
  });
});

describe('cancel and progress', () => {
  it('reports progress in order, ending at the file size (one thread and parallel)', async () => {
    const size = Buffer.byteLength(big);
    for (const o of [
      { threads: 1, chunkBytes: 1 << 16 },
      { ...PAR, workerScript: worker },
    ]) {
      const seen: LoadProgress[] = [];
      await readTraceFile(file('big.txt'), { ...o, onProgress: (p) => seen.push(p) });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.at(-1)).toEqual({ bytesDone: size, bytesTotal: size });
      for (let i = 1; i < seen.length; i++)
        expect(seen[i]!.bytesDone).toBeGreaterThanOrEqual(seen[i - 1]!.bytesDone);
    }
  });

  it('a cancelled load returns no traces and says so (one thread, parallel, .dat on a worker)', async () => {
    const cases: [string, ReadOptions][] = [
      ['big.txt', { threads: 1, chunkBytes: 1 << 16 }],
      ['big.txt', { ...PAR, workerScript: worker }],
      ['big.txt.gz', {}],
    ];
    for (const [name, o] of cases) {
      const ac = new AbortController();
      const r = await readTraceFile(file(name), {
        ...o,
        signal: ac.signal,
        // Cancel as soon as loading has begun.
        onProgress: () => ac.abort(),
      });
      expect(r.traces).toEqual([]);
      expect(r.diagnostics.map((d) => d.code)).toContain(DIAG.cancelled);
    }
    const ac = new AbortController();
    ac.abort();
    const r = await readTraceFile(file('big.dat'), {
      threads: 2,
      workerScript: worker,
      signal: ac.signal,
    });
    expect(r.traces).toEqual([]);
    expect(r.diagnostics.map((d) => d.code)).toEqual([DIAG.cancelled]);
  });

  it('a worker that dies is reported, and the file is read on this thread instead', async () => {
    const dying = file('dying-worker.js');
    writeFileSync(dying, 'process.exit(7);\n');
    for (const name of ['big.txt', 'big.dat']) {
      const r = await readTraceFile(file(name), { ...PAR, workerScript: dying });
      expect(r.diagnostics.map((d) => d.message).join('\n')).toMatch(
        /exited with code 7 before answering/,
      );
      expect(r.traces[0]!.events.length).toBe(bigEvents);
    }
  });
});
