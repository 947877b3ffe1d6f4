// The language server over in-memory streams (the vscode-languageserver-node way): a real host
// trace opened as a document, paired with its guest sibling on disk, gives parse diagnostics,
// preemptions on the lines where they happen, hovers, symbols, CodeLens and definitions.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { createConnection } from 'vscode-languageserver/node';
import type {
  CodeLens,
  Diagnostic,
  DocumentSymbol,
  Hover,
  Location,
  PublishDiagnosticsParams,
} from 'vscode-languageserver';
import { startServer, ServerHandle } from '../../src/server/server';
import { ANALYZE, AnalyzeResult, DOC_STATUS, DocStatus } from '../../src/protocol/lsp-ext';

const FIX = path.join(__dirname, '../fixtures/real/quiet-passive-local');

describe('language server on a real host + guest pair', () => {
  let client: MessageConnection;
  let server: ServerHandle;
  let hostText: string;
  let hostLines: string[];
  let hostUri: string;
  const published = new Map<string, PublishDiagnosticsParams[]>();
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-server-'));

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

    const toServer = new PassThrough();
    const toClient = new PassThrough();
    server = startServer(
      createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient)),
    );
    client = createMessageConnection(
      new StreamMessageReader(toClient),
      new StreamMessageWriter(toServer),
    );
    client.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      const l = published.get(p.uri) ?? [];
      l.push(p);
      published.set(p.uri, l);
    });
    client.onNotification(
      'window/logMessage',
      (m: { message: string }) => process.env['VL_DEBUG'] && console.log(m.message),
    );
    client.onNotification('vcpuLens/statusChanged', () => {});
    client.listen();
    await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    await client.sendNotification('initialized', {});
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
  });

  it('puts preemptions on the host sched_switch lines that preempted a vCPU thread', () => {
    const d = diagnosticsOf(hostUri).filter((x) => x.code === 'vcpu-preempted');
    expect(d.length).toBeGreaterThan(10);
    expect(d.length).toBeLessThanOrEqual(100);
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
    expect(text).toContain('**sched\\_switch**'.replace('\\_', '_'));
    expect(text).toMatch(/on the guest: \d+\.\d{9} \(clock map by /);
    expect(text).toMatch(/CPU 1\/TCG-3316: running [\d.]+ (ms|s)/);
    expect(text).toMatch(/vCPU 1: running .*preempted .* in \d+ preemptions/);
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

  it('answers vcpuLens/analyze with the vCPU threads of meta.json and the advice', async () => {
    const r = (await client.sendRequest(ANALYZE, { uri: hostUri })) as AnalyzeResult;
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
});
