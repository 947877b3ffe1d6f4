// The language server over in-memory streams (the vscode-languageserver-node way): a real host
// trace opened as a document, paired with its guest sibling on disk, gives parse diagnostics,
// preemptions on the lines where they happen, hovers, symbols, CodeLens and definitions.
/* eslint-disable no-control-regex -- the hostile-name test looks for NUL on purpose */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type {
  CodeLens,
  Diagnostic,
  DocumentSymbol,
  Hover,
  Location,
  PublishDiagnosticsParams,
} from 'vscode-languageserver';
import { advise } from '../../src/core/analyze/dop';
import { buildTimelines } from '../../src/core/timeline/build';
import type { ServerHandle } from '../../src/server/server';
import { connectServer } from './support/lsp';
import {
  ANALYZE,
  AnalyzeResult,
  DEFAULT_SERVER_SETTINGS,
  DOC_STATUS,
  DocStatus,
  EXPORT,
  ExportResult,
  FILE_CHANGED,
  OPEN_FROM_DISK,
  SIMULATE,
  SimulateParams,
  SimulateResult,
} from '../../src/protocol/lsp-ext';

const FIX = path.join(__dirname, '../fixtures/real/quiet-passive-local');

// The advice (its what-if runs the simulator many times), counted: the server computes it only
// for what shows it.
vi.mock('../../src/core/analyze/dop', async (actual) => {
  const m = await actual<typeof import('../../src/core/analyze/dop')>();
  return { ...m, advise: vi.fn(m.advise) };
});
// Timelines, counted: an open document's are built once, and its pair's analysis reuses them.
vi.mock('../../src/core/timeline/build', async (actual) => {
  const m = await actual<typeof import('../../src/core/timeline/build')>();
  return { ...m, buildTimelines: vi.fn(m.buildTimelines) };
});

describe('language server on a real host + guest pair', () => {
  let client: MessageConnection;
  let server: ServerHandle;
  let hostText: string;
  let hostLines: string[];
  let hostUri: string;
  let published: Map<string, PublishDiagnosticsParams[]>;
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-server-'));
  /** The server's log lines (it logs each analysis and each advice it computes). */
  let logs: string[];

  const diagnosticsOf = (uri: string): Diagnostic[] =>
    published.get(uri)?.at(-1)?.diagnostics ?? [];

  beforeAll(async () => {
    hostText = gunzipSync(readFileSync(path.join(FIX, 'host.txt.gz'))).toString('utf8');
    // One broken line in the middle: reported where it is, the rest still loads.
    hostLines = hostText.split('\n');
    hostLines.splice(20, 0, '  not a trace line at all');
    hostText = hostLines.join('\n');
    writeFileSync(path.join(dir, 'host.txt'), hostText);
    writeFileSync(
      path.join(dir, 'guest.txt'),
      gunzipSync(readFileSync(path.join(FIX, 'guest.txt.gz'))),
    );
    hostUri = pathToFileURL(path.join(dir, 'host.txt')).toString();

    const c = connectServer();
    ({ client, server } = c);
    published = c.published;
    logs = c.logs;
    await c.start();
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri: hostUri, languageId: 'trace-cmd-report', version: 1, text: hostText },
    });
    await settle();
  }, 120_000);

  /**
   * Waits for the server's own idle signal (parse, pairing, analysis), not a fixed sleep. Requests
   * around it: answered in order, so every notification sent before the first has been handled,
   * and every notification the server sent before the second has reached the client.
   */
  const settle = async (): Promise<void> => {
    await client.sendRequest(DOC_STATUS, { uri: hostUri });
    await server.idle();
    await client.sendRequest(DOC_STATUS, { uri: hostUri });
  };

  afterAll(() => client?.dispose());

  it('reports the malformed line with its code, and keeps the rest', () => {
    const d = diagnosticsOf(hostUri).filter(
      (x) => x.source === 'vcpu-lens' && /^VL\d+$/.test(String(x.code)),
    );
    expect(d).toHaveLength(1);
    expect(d[0]!.range.start.line).toBe(20);
    expect(d[0]!.code).toBe('VL1001');
    // It has a place in the timeline too (Show in Timeline): the next event's time.
    expect(d[0]!.data).toMatchObject({ hostUri, startNs: expect.any(Number) });
  });

  it('puts preemptions on the host sched_switch lines that preempted a vCPU thread', () => {
    const d = diagnosticsOf(hostUri).filter((x) => x.code === 'vcpu-preempted');
    // The longest few (vcpuLens.maxStallDiagnostics); the rest are one "… and N more".
    expect(d).toHaveLength(DEFAULT_SERVER_SETTINGS.maxStallDiagnostics);
    for (const x of d) {
      const line = hostLines[x.range.start.line]!;
      expect(line).toMatch(/sched_switch: +CPU [0-3]\/TCG:331[5-8] \[\d+\] R\+? ==>/);
      expect(x.message).toMatch(
        /^vCPU [0-3] \(CPU [0-3]\/TCG\) preempted for [\d.]+ (µs|ms|s) by /,
      );
      // The vCPU named in the message is the one switched out on that line.
      const v = /^vCPU (\d)/.exec(x.message)![1];
      expect(line).toContain(`CPU ${v}/TCG:`);
    }
  });

  it('hovers an event with its time on the guest, the task totals and the vCPU', async () => {
    const line = hostLines.findIndex((l) => /sched_switch: +CPU 1\/TCG:3316 \[120\] R/.test(l));
    expect(line).toBeGreaterThan(0);
    const h = (await client.sendRequest('textDocument/hover', {
      textDocument: { uri: hostUri },
      position: { line, character: hostLines[line]!.indexOf('prev') >= 0 ? 5 : 5 },
    })) as Hover;
    const text = (h.contents as { value: string }).value;
    // Trace-derived names are Markdown-escaped (rendered the same).
    expect(text).toContain('**sched\\_switch**');
    expect(text).toMatch(/on the guest: \d+\.\d{9} \(clock map (estimated|from) /);
    // Each total says the span it covers: the thread's whole trace, the vCPU's shared window.
    expect(text).toMatch(
      /CPU 1\/TCG-3316 over this whole trace \([\d.]+ (ms|s)\): running [\d.]+ (ms|s)/,
    );
    expect(text).toMatch(
      /vCPU 1 over the [\d.]+ (ms|s) both traces cover: running .*preempted .* in \d+ preemptions/,
    );
  });

  it('lists CPUs, tasks and their first lines as symbols', async () => {
    const s = (await client.sendRequest('textDocument/documentSymbol', {
      textDocument: { uri: hostUri },
    })) as DocumentSymbol[];
    const cpus = s.find((x) => x.name === 'CPUs')!;
    expect(cpus.children!.map((c) => c.name)).toEqual(['CPU 0', 'CPU 1']);
    const tasks = s.find((x) => x.name === 'Tasks')!;
    const vcpu1 = tasks.children!.find((c) => c.name === 'CPU 1/TCG-3316')!;
    expect(vcpu1).toBeDefined();
    expect(hostLines[vcpu1.range.start.line]).toContain('3316');
    expect(hostLines.slice(0, vcpu1.range.start.line).some((l) => l.includes('3316'))).toBe(false);
  });

  it('offers Open Timeline, the pair and Analyze as CodeLens', async () => {
    const c = (await client.sendRequest('textDocument/codeLens', {
      textDocument: { uri: hostUri },
    })) as CodeLens[];
    expect(c.map((x) => x.command!.title)).toEqual([
      'Open Timeline',
      'Paired with guest.txt',
      'Analyze',
    ]);
    expect(c.map((x) => x.command!.command)).toEqual([
      'vcpuLens.openTimeline',
      'vcpuLens.pairTraces',
      'vcpuLens.analyze',
    ]);
  });

  it('goes from a pid to its first appearance, and not from a CPU number', async () => {
    const line = hostLines.findIndex((l) => l.includes('==> CPU 2/TCG:3317'));
    const col = hostLines[line]!.lastIndexOf('3317') + 1;
    const loc = (await client.sendRequest('textDocument/definition', {
      textDocument: { uri: hostUri },
      position: { line, character: col },
    })) as Location;
    expect(hostLines[loc.range.start.line]).toContain('3317');
    expect(hostLines.slice(0, loc.range.start.line).some((l) => l.includes('3317'))).toBe(false);
    const wake = hostLines.findIndex((l) => / CPU:001$/.test(l));
    const none = await client.sendRequest('textDocument/definition', {
      textDocument: { uri: hostUri },
      position: { line: wake, character: hostLines[wake]!.length - 1 },
    });
    expect(none).toBeNull();
  });

  const advised = (): number => vi.mocked(advise).mock.calls.length;

  it('publishes diagnostics and answers hovers without running the what-if', () => {
    expect(logs.filter((l) => /^analysed host\.txt \+ guest\.txt/.test(l))).toHaveLength(1);
    // The open host document's timelines and the guest's (read from disk, for the analysis).
    expect(vi.mocked(buildTimelines).mock.calls.map(([t]) => t.name)).toEqual([
      'host.txt',
      'guest.txt',
    ]);
    expect(diagnosticsOf(hostUri).some((x) => x.code === 'vcpu-preempted')).toBe(true);
    expect(advised()).toBe(0);
  });

  it('answers vcpuLens/analyze with the vCPU threads of meta.json and the advice', async () => {
    const r = (await client.sendRequest(ANALYZE, { uri: hostUri })) as AnalyzeResult;
    // The advice is computed on this first request that shows it, once: a second one reuses it.
    expect(advised()).toBe(1);
    await client.sendRequest(ANALYZE, { uri: hostUri });
    expect(advised()).toBe(1);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.report.vcpus.map((v) => v.hostTid)).toEqual([3315, 3316, 3317, 3318]);
    expect(r.guestUri.endsWith('/guest.txt')).toBe(true);
    expect(r.summary.some((l) => /passive/.test(l))).toBe(true);
    const st = (await client.sendRequest(DOC_STATUS, { uri: hostUri })) as DocStatus;
    expect(st).toMatchObject({ parsed: true, role: 'host', problems: 1 });
    expect(st.preemptions).toBeGreaterThan(100);
  });

  it('re-parses after an edit, and the fixed line no longer has a diagnostic', async () => {
    const before = published.get(hostUri)!.length;
    await client.sendNotification('textDocument/didChange', {
      textDocument: { uri: hostUri, version: 2 },
      contentChanges: [
        { range: { start: { line: 20, character: 0 }, end: { line: 21, character: 0 } }, text: '' },
      ],
    });
    await settle();
    const last = published.get(hostUri)!;
    expect(last.length).toBeGreaterThan(before);
    expect(last.at(-1)!.version).toBe(2);
    expect(last.at(-1)!.diagnostics.filter((x) => /^VL/.test(String(x.code)))).toEqual([]);
  });

  it('settings: the same ones again (sent after every start) change nothing; new ones apply', async () => {
    const n = published.get(hostUri)!.length;
    await client.sendNotification('workspace/didChangeConfiguration', {
      settings: { vcpuLens: { ...DEFAULT_SERVER_SETTINGS } },
    });
    await settle();
    expect(published.get(hostUri)!.length).toBe(n);
    await client.sendNotification('workspace/didChangeConfiguration', {
      settings: { vcpuLens: { ...DEFAULT_SERVER_SETTINGS, maxStallDiagnostics: 5 } },
    });
    await settle();
    expect(published.get(hostUri)!.length).toBeGreaterThan(n);
    expect(diagnosticsOf(hostUri).filter((x) => x.code === 'vcpu-preempted')).toHaveLength(5);
  });
});

const preemptions = (d: Diagnostic[]): Diagnostic[] => d.filter((x) => x.code === 'vcpu-preempted');

describe('language server: big traces read from disk, faults, hostile names', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-server-disk-'));
  let hostText: string;
  let guestText: string;
  beforeAll(() => {
    hostText = gunzipSync(readFileSync(path.join(FIX, 'host.txt.gz'))).toString('utf8');
    guestText = gunzipSync(readFileSync(path.join(FIX, 'guest.txt.gz'))).toString('utf8');
  });
  const pair = (name: string, host = hostText, guest = guestText): string => {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'host.txt'), host);
    writeFileSync(path.join(d, 'guest.txt'), guest);
    return pathToFileURL(path.join(d, 'host.txt')).toString();
  };

  it('reads a trace from its file (no text synced): the same diagnostics, hovers from the file, watched for changes', async () => {
    const lines = hostText.split('\n');
    lines.splice(20, 0, '  not a trace line at all');
    const uri = pair('disk', lines.join('\n'));
    const c = connectServer();
    const changed: string[] = [];
    c.client.onNotification(FILE_CHANGED, (p: { uri: string }) => changed.push(p.uri));
    await c.start();
    await c.client.sendNotification(OPEN_FROM_DISK, { uri, version: null });
    const first = await c.diagnosticsWhere(uri, (d) => preemptions(d).length > 0);
    expect(first.version).toBeUndefined();
    expect(first.diagnostics.find((x) => x.code === 'VL1001')?.range.start.line).toBe(20);
    for (const x of preemptions(first.diagnostics))
      expect(lines[x.range.start.line]).toMatch(/sched_switch: +CPU [0-3]\/TCG:331[5-8] /);
    // The document opens: its version is published, from what was read.
    await c.client.sendNotification(OPEN_FROM_DISK, { uri, version: 1 });
    const v1 = await c.diagnosticsWhere(uri, (d) => preemptions(d).length > 0 && true);
    await c.client.sendRequest(DOC_STATUS, { uri });
    await c.server.idle();
    expect(c.published.get(uri)!.at(-1)!.version).toBe(1);
    expect(v1.diagnostics.length).toBe(first.diagnostics.length);
    // Hover reads its line from the file.
    const line = lines.findIndex((l) => /sched_switch: +CPU 1\/TCG:3316 \[120\] R/.test(l));
    const h = (await c.client.sendRequest('textDocument/hover', {
      textDocument: { uri },
      position: { line, character: 5 },
    })) as Hover;
    expect((h.contents as { value: string }).value).toMatch(/on the guest: \d+\.\d{9}/);
    const sym = (await c.client.sendRequest('textDocument/documentSymbol', {
      textDocument: { uri },
    })) as DocumentSymbol[];
    expect(sym.find((x) => x.name === 'CPUs')!.children!.map((x) => x.name)).toEqual([
      'CPU 0',
      'CPU 1',
    ]);
    // Changed on disk (the bad line fixed): read again, said so, the diagnostic gone.
    const file = new URL(uri);
    lines.splice(20, 1);
    writeFileSync(file, lines.join('\n'));
    const later = new Date(statSync(file).mtimeMs + 2000);
    utimesSync(file, later, later);
    const fixed = await c.diagnosticsWhere(
      uri,
      (d) => preemptions(d).length > 0 && !d.some((x) => x.code === 'VL1001'),
    );
    expect(fixed.version).toBe(1);
    expect(changed).toContain(uri);
    c.client.dispose();
  }, 60_000);

  it('invalid UTF-8 in a file read from disk: VL1011 on the line of the first bad byte', async () => {
    const lines = hostText.split('\n');
    const uri = pair('utf8');
    const bad = Buffer.from(lines.slice(0, 24).join('\n') + '\n');
    writeFileSync(
      new URL(uri),
      Buffer.concat([bad, Buffer.from([0xff]), Buffer.from(lines.slice(24).join('\n'))]),
    );
    const c = connectServer();
    await c.start();
    await c.client.sendNotification(OPEN_FROM_DISK, { uri, version: null });
    const d = await c.diagnosticsWhere(uri, (x) => x.some((y) => y.code === 'VL1011'));
    const v = d.diagnostics.find((x) => x.code === 'VL1011')!;
    expect(v.range.start.line).toBe(24);
    expect(v.message).toContain(`the first at byte ${bad.length}, line 25`);
    c.client.dispose();
  }, 60_000);

  it('a request right after an open waits for the parse instead of finding nothing', async () => {
    const uri = pair('race');
    const c = connectServer();
    await c.start();
    await c.client.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'trace-cmd-report', version: 1, text: hostText },
    });
    const r = (await c.client.sendRequest(ANALYZE, { uri })) as AnalyzeResult;
    expect(r.ok).toBe(true);
    c.client.dispose();
  }, 60_000);

  it('cancelling the read (work-done progress) keeps nothing and says so; Analyze reads it again', async () => {
    const uri = pair('cancel');
    const c = connectServer();
    const tokens: (string | number)[] = [];
    c.client.onRequest('window/workDoneProgress/create', (p: { token: string | number }) => {
      tokens.push(p.token);
      return null;
    });
    let cancelled = 0;
    c.client.onNotification(
      '$/progress',
      (p: {
        token: string | number;
        value: { kind: string; title?: string; cancellable?: boolean };
      }) => {
        // The user clicks Cancel on the first read's notification.
        if (p.value.kind === 'begin' && p.value.cancellable === true && cancelled++ === 0)
          void c.client.sendNotification('window/workDoneProgress/cancel', { token: p.token });
      },
    );
    await c.start({ window: { workDoneProgress: true } });
    await c.client.sendNotification(OPEN_FROM_DISK, { uri, version: 1 });
    const d = await c.diagnosticsWhere(uri, (x) => x.some((y) => y.code === 'VL1015'));
    expect(preemptions(d.diagnostics)).toEqual([]);
    // How far it had got: short of the whole file (the reader stopped).
    const m = /cancelled after (\d+) of (\d+) MB/.exec(
      d.diagnostics.find((x) => x.code === 'VL1015')!.message,
    );
    expect(Number(m![2])).toBe(19);
    expect(Number(m![1])).toBeLessThan(19);
    expect(tokens.length).toBeGreaterThan(0);
    const st = (await c.client.sendRequest(DOC_STATUS, { uri })) as DocStatus;
    expect(st.parsed).toBe(false);
    const r = (await c.client.sendRequest(ANALYZE, { uri })) as AnalyzeResult;
    expect(r.ok).toBe(true);
    c.client.dispose();
  }, 60_000);

  it('an export never replaces an existing file unless told to', async () => {
    const uri = pair('export');
    const out = path.join(dir, 'export', 'kept.json');
    writeFileSync(out, 'mine');
    const c = connectServer();
    await c.start();
    await c.client.sendNotification(OPEN_FROM_DISK, { uri, version: null });
    const kept = (await c.client.sendRequest(EXPORT, {
      uri,
      kind: 'chrome-trace',
      path: out,
      overwrite: false,
    })) as ExportResult;
    expect(kept).toMatchObject({ ok: false, exists: true });
    expect(readFileSync(out, 'utf8')).toBe('mine');
    const fresh = path.join(dir, 'export', 'new.json');
    const made = (await c.client.sendRequest(EXPORT, {
      uri,
      kind: 'chrome-trace',
      path: fresh,
      overwrite: false,
    })) as ExportResult;
    expect(made.ok).toBe(true);
    expect(existsSync(fresh)).toBe(true);
    const replaced = (await c.client.sendRequest(EXPORT, {
      uri,
      kind: 'chrome-trace',
      path: out,
      overwrite: true,
    })) as ExportResult;
    expect(replaced.ok).toBe(true);
    expect(readFileSync(out, 'utf8')).toMatch(/^\{"traceEvents"/);
    c.client.dispose();
  }, 60_000);

  it('hostile task names (markup, RTL override, NUL, 3000 characters) stay inert in diagnostics, hovers and symbols', async () => {
    const EVIL = `\u202Egpj.exe<img/src=x/onerror=alert(1)>[x](command:evil)\u0000${'W'.repeat(3000)}`;
    const guest = guestText
      .replace(/omp_barrier-565/g, `${EVIL}-565`)
      .replace(/omp_barrier:565/g, `${EVIL}:565`);
    const hostUri = pair('evil', hostText, guest);
    const guestUri = hostUri.replace(/host\.txt$/, 'guest.txt');
    const c = connectServer();
    await c.start();
    await c.client.sendNotification('textDocument/didOpen', {
      textDocument: { uri: guestUri, languageId: 'trace-cmd-report', version: 1, text: guest },
    });
    await c.client.sendNotification(OPEN_FROM_DISK, { uri: hostUri, version: null });
    const host = await c.diagnosticsWhere(hostUri, (d) =>
      preemptions(d).some((x) => x.message.includes('-565')),
    );
    const gd = await c.diagnosticsWhere(guestUri, (d) => d.some((x) => x.message.includes('-565')));
    const messages = [...host.diagnostics, ...gd.diagnostics].map((x) => x.message);
    const named = messages.filter((m) => m.includes('-565'));
    expect(named.length).toBeGreaterThan(0);
    for (const m of messages) {
      expect(m).not.toMatch(/[\u0000\u202E]/);
      expect(m.length).toBeLessThanOrEqual(2001);
    }
    expect(named[0]).toContain('\\u202egpj.exe<img/src=x/onerror=alert(1)>');
    expect(named[0]).toContain('W…');
    // Hover on a line of thread 565: escaped Markdown, no raw markup or link.
    const lines = guest.split('\n');
    const line = lines.findIndex((l) => l.trimStart().startsWith(`${EVIL}-565`));
    const h = (await c.client.sendRequest('textDocument/hover', {
      textDocument: { uri: guestUri },
      position: { line, character: lines[line]!.indexOf('sched') + 1 },
    })) as Hover;
    const md = (h.contents as { value: string }).value;
    expect(md).toContain('\\<img/src=x/onerror=alert\\(1\\)\\>');
    expect(md).toContain('\\[x\\]\\(command\\:evil\\)');
    // No unescaped `<` (HTML) or `](` (a link) anywhere.
    expect(md).not.toMatch(/[\u0000\u202E]|(?<!\\)<|(?<!\\)\]\(/);
    expect(md.length).toBeLessThan(2000);
    const sym = (await c.client.sendRequest('textDocument/documentSymbol', {
      textDocument: { uri: guestUri },
    })) as DocumentSymbol[];
    const t = sym.find((x) => x.name === 'Tasks')!.children!.find((x) => x.name.endsWith('-565'))!;
    expect(t.name).not.toMatch(/[\u0000\u202E]/);
    expect(t.name.length).toBeLessThan(200);
    c.client.dispose();
  }, 60_000);
});

describe('language server: vcpuLens/simulate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-server-sim-'));
  const params = (outDir: string): SimulateParams => ({
    preset: 'small',
    policy: 'spin',
    dop: 'fixed',
    seed: 4,
    outDir,
    compare: false,
  });
  const names = ['host.txt', 'guest.txt', 'truth.json'];

  it('writes the same traces and truth.json as vcpu-lens simulate --out (one flow in core)', async () => {
    const c = connectServer();
    await c.start();
    const r = (await c.client.sendRequest(SIMULATE, params(path.join(dir, 'a')))) as SimulateResult;
    c.client.dispose();
    expect(r).toMatchObject({ ok: true, outDir: path.join(dir, 'a') });
    process.env['VCPU_LENS_NO_MAIN'] = '1';
    const { main } = await import('../../src/cli/main');
    const cli = path.join(dir, 'cli');
    const args = ['simulate', '--policy', 'spin', '--dop', 'fixed', '--seed', '4', '--out', cli];
    expect(await main(args, () => {})).toBe(0);
    const serverTruth = JSON.parse(
      readFileSync(path.join(dir, 'a', 'truth.json'), 'utf8'),
    ) as object;
    const cliTruth = JSON.parse(readFileSync(path.join(cli, 'truth.json'), 'utf8')) as object;
    expect(Object.keys(serverTruth)).toEqual(Object.keys(cliTruth));
    expect(Object.keys(serverTruth)).toContain('vcpuWaitNs');
    for (const f of names)
      expect(readFileSync(path.join(dir, 'a', f)).equals(readFileSync(path.join(cli, f))), f).toBe(
        true,
      );
  }, 60_000);

  it("never replaces the user's files: another folder beside them, said in the result", async () => {
    const c = connectServer();
    await c.start();
    const out = path.join(dir, 'b');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'host.txt'), 'mine');
    const r = (await c.client.sendRequest(SIMULATE, params(out))) as SimulateResult;
    expect(readFileSync(path.join(out, 'host.txt'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(out, 'truth.json'))).toBe(false);
    expect(r).toMatchObject({
      ok: true,
      outDir: `${out}-2`,
      hostPath: path.join(`${out}-2`, 'host.txt'),
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.summary.join('\n')).toContain(`wrote into ${out}-2`);
    for (const f of names) expect(existsSync(path.join(`${out}-2`, f)), f).toBe(true);
    // The same run again finds its own files there and leaves them as they are.
    const again = (await c.client.sendRequest(SIMULATE, params(out))) as SimulateResult;
    expect(again).toMatchObject({ ok: true, outDir: `${out}-2` });
    expect(existsSync(`${out}-3`)).toBe(false);
    // Another run does not replace them either.
    const other = (await c.client.sendRequest(SIMULATE, {
      ...params(out),
      seed: 5,
    })) as SimulateResult;
    expect(other).toMatchObject({ ok: true, outDir: `${out}-3` });
    expect(readFileSync(path.join(`${out}-2`, 'truth.json'), 'utf8')).toContain('"seed": 4');
    c.client.dispose();
  }, 60_000);
});
