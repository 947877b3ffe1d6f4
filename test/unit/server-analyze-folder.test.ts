// "Analyze Folder of Traces…" in the language server, over in-memory streams: the lab's pair
// folders found and analysed one after another with work-done progress, each row's numbers
// those of the pair's own analysis, a damaged pair listed with its reason, and Cancel stopping
// between pairs.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { analyzePair } from '../../src/core/analyze/pair';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { analyzeReport } from '../../src/core/report/analyze';
import type { FleetRunRow } from '../../src/core/view/fleet-table';
import { ANALYZE_FOLDER, AnalyzeFolderResult } from '../../src/protocol/lsp-ext';
import { connectServer } from './support/lsp';

const REAL = path.join(__dirname, '../fixtures/real');
const QUIET = path.join(REAL, 'quiet-passive-local');
const NOISY = path.join(REAL, 'raw-noisy-passive');

interface Client {
  client: MessageConnection;
  /** `$/progress` values in order, with their token. */
  progress: { token: string | number; value: { kind: string; message?: string; title?: string } }[];
  dispose(): void;
}

async function connect(
  onBegin?: (token: string | number, c: MessageConnection) => void,
): Promise<Client> {
  const { client, start } = connectServer();
  const progress: Client['progress'] = [];
  client.onRequest('window/workDoneProgress/create', () => null);
  client.onNotification('$/progress', (p: Client['progress'][number]) => {
    progress.push(p);
    if (p.value.kind === 'begin') onBegin?.(p.token, client);
  });
  await start({ window: { workDoneProgress: true } });
  return { client, progress, dispose: () => client.dispose() };
}

/** What `analyze --json` says of a pair: vCPU time, preempted time, stall time by thread. */
async function reportOf(host: string, guest: string) {
  const [h, g] = await Promise.all([readTraceFile(host), readTraceFile(guest)]);
  return analyzeReport(analyzePair(h.traces[0]!, g.traces[0]!));
}

describe('Analyze Folder of Traces (language server)', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'vl-folder-'));
  const broken = path.join(tmp, 'broken');
  let c: Client;
  let r: AnalyzeFolderResult;

  beforeAll(async () => {
    // A pair whose host trace is damaged: no line of it is a trace line.
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'host.txt'), 'this is not a trace\nnor is this\n');
    writeFileSync(
      path.join(broken, 'guest.txt'),
      gunzipSync(readFileSync(path.join(QUIET, 'guest.txt.gz'))),
    );
    c = await connect();
    r = (await c.client.sendRequest(ANALYZE_FOLDER, {
      folders: [QUIET, NOISY, tmp],
    })) as AnalyzeFolderResult;
  }, 240_000);
  afterAll(() => c.dispose());

  it('finds each pair folder and picks its traces by the fleet rule (.dat first, else the shortest name)', () => {
    expect(r.ok).toBe(true);
    if (!r.ok) throw new Error(r.message);
    expect(r.cancelled).toBe(false);
    expect(
      r.rows.map((x) => [x.run, path.basename(x.hostFile), path.basename(x.guestFile)]),
    ).toEqual([
      ['quiet-passive-local', 'host.dat', 'guest.dat'],
      ['raw-noisy-passive', 'host.txt.gz', 'guest.txt.gz'],
      ['broken', 'host.txt', 'guest.txt'],
    ]);
  });

  it("gives each pair its analysis' vCPUs, threads, lost time, preempted share and advice", async () => {
    if (!r.ok) throw new Error(r.message);
    for (const row of r.rows.slice(0, 2) as FleetRunRow[]) {
      expect(row.ok).toBe(true);
      const rep = await reportOf(row.hostFile, row.guestFile);
      const vcpuTime = rep.vcpuTime.reduce(
        (n, t) => n + t.running + t.preempted + t.waiting + t.idle + t.vmm + t.blocked + t.unknown,
        0,
      );
      const preempted = rep.vcpuTime.reduce((n, t) => n + t.preempted, 0);
      expect(row.vcpus).toBe(rep.vcpus.length);
      expect(row.vcpus).toBeGreaterThan(0);
      expect(row.threads).toBe(rep.program?.pids.length ?? null);
      expect(row.preemptedNs).toBe(preempted);
      expect(row.vcpuTimeNs).toBeCloseTo(vcpuTime, 3);
      expect(row.preemptedShare).toBeCloseTo(preempted / vcpuTime, 12);
      // The sum of the stalls: what analyze's per-thread totals add up to.
      expect(row.lostNs).toBeCloseTo(
        rep.stallsByThread.reduce((n, t) => n + t.lost, 0),
        0,
      );
      expect(row.advice).toEqual({
        threads: rep.advice!.dop,
        waitPolicy: rep.advice!.waitPolicy,
        predictedSpeedup: rep.advice!.predictedSpeedup,
      });
    }
    // The noisy capture lost time to preemption; the quiet one far less of its vCPU time.
    const [quiet, noisy] = r.rows as FleetRunRow[];
    expect(noisy!.preemptedShare!).toBeGreaterThan(quiet!.preemptedShare!);
    expect(noisy!.lostNs).toBeGreaterThan(0);
  });

  it('lists a damaged pair with its reason and still analyses the others', () => {
    if (!r.ok) throw new Error(r.message);
    const b = r.rows[2]!;
    expect(b.ok).toBe(false);
    if (b.ok) return;
    expect(b.reason).toContain(path.join(broken, 'host.txt'));
    expect(r.rows.filter((x) => x.ok)).toHaveLength(2);
  });

  it('reports work-done progress per pair, then ends it', () => {
    const kinds = c.progress.map((p) => p.value.kind);
    expect(kinds[0]).toBe('begin');
    expect(kinds.at(-1)).toBe('end');
    const messages = c.progress
      .filter((p) => p.value.kind === 'report')
      .map((p) => p.value.message);
    expect(messages).toEqual([
      '1 of 3: quiet-passive-local',
      '2 of 3: raw-noisy-passive',
      '3 of 3: broken',
    ]);
  });

  it('a folder without pairs is an error that says what a pair folder is', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'vl-empty-'));
    const e = (await c.client.sendRequest(ANALYZE_FOLDER, {
      folders: [empty],
    })) as AnalyzeFolderResult;
    expect(e).toEqual({
      ok: false,
      message: `no pair folders (a folder holding host.* and guest.* traces) in ${empty}`,
    });
  });

  it('Cancel on the progress stops before the next pair and returns the pairs done', async () => {
    // Cancelled as soon as it begins: the first pair's read stops, nothing is listed.
    const cc = await connect((token, client) => {
      void client.sendNotification('window/workDoneProgress/cancel', { token });
    });
    const x = (await cc.client.sendRequest(ANALYZE_FOLDER, {
      folders: [QUIET, NOISY],
    })) as AnalyzeFolderResult;
    cc.dispose();
    expect(x.ok).toBe(true);
    if (!x.ok) return;
    expect(x.cancelled).toBe(true);
    expect(x.rows.length).toBeLessThan(2);
  }, 120_000);
});
