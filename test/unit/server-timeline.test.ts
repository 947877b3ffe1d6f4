// From a finding to the moment it happened and back, over the language server (in-memory
// streams, a real host + guest pair open as documents): each vCPU Lens diagnostic on its own line
// (a guest preemption on the line of the thread that lost the time), ranked and summarised,
// offering "Show in Timeline" with its interval and lane; and from a timeline interval back to
// the line of its event ("Reveal in Trace").

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { CodeAction, Diagnostic } from 'vscode-languageserver';
import { writeTraceCmdText } from '../../src/core/export/trace-cmd-text';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { laneId, parseLaneId } from '../../src/core/view/lane-id';
import {
  DAT_TEXT,
  DEFAULT_SERVER_SETTINGS,
  DOC_STATUS,
  RevealTarget,
  SHOW_IN_TIMELINE,
  TRACE_LINE,
} from '../../src/protocol/lsp-ext';
import { MORE_PREEMPTIONS } from '../../src/server/analysis-diagnostics';
import type { ServerHandle } from '../../src/server/server';
import { REAL } from './support/fixtures';
import { connectServer, type LspSession } from './support/lsp';

const FIX = path.join(REAL, 'quiet-passive-local');

describe('language server: Show in Timeline and Reveal in Trace', () => {
  let client: MessageConnection;
  let server: ServerHandle;
  const text: Record<'host' | 'guest', string[]> = { host: [], guest: [] };
  const uri: Record<'host' | 'guest', string> = { host: '', guest: '' };
  let latest: LspSession['latest'];
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-reveal-'));

  beforeAll(async () => {
    const c = connectServer();
    ({ client, server } = c);
    latest = c.latest;
    await c.start();
    for (const side of ['host', 'guest'] as const) {
      const t = gunzipSync(readFileSync(path.join(FIX, `${side}.txt.gz`))).toString('utf8');
      writeFileSync(path.join(dir, `${side}.txt`), t);
      text[side] = t.split('\n');
      uri[side] = pathToFileURL(path.join(dir, `${side}.txt`)).toString();
      await client.sendNotification('textDocument/didOpen', {
        textDocument: { uri: uri[side], languageId: 'trace-cmd-report', version: 1, text: t },
      });
    }
    await client.sendRequest(DOC_STATUS, { uri: uri.host });
    await server.idle();
    await client.sendRequest(DOC_STATUS, { uri: uri.guest });
  }, 120_000);

  afterAll(() => client?.dispose());

  const ours = (side: 'host' | 'guest'): Diagnostic[] =>
    latest(uri[side]).filter((d) => d.source === 'vcpu-lens' && d.data);

  it('puts a guest preemption on a line of the guest thread that lost the time, on its CPU', () => {
    const pre = ours('guest').filter((d) => d.code === 'vcpu-preempted');
    expect(pre).toHaveLength(DEFAULT_SERVER_SETTINGS.maxStallDiagnostics);
    for (const d of pre) {
      const m = /^guest thread (\S+)-(\d+) on CPU (\d+) lost /.exec(d.message)!;
      expect(m, d.message).not.toBeNull();
      const line = text.guest[d.range.start.line]!;
      // Its own event (as the task, or switched in or out) on its CPU.
      expect(line).toContain(`[${m[3]!.padStart(3, '0')}]`);
      expect(line).toMatch(new RegExp(`(${m[1]}-${m[2]} |:${m[2]} )`));
    }
  });

  it('one diagnostic per line; the preemptions past the setting summarised as "… and N more"', () => {
    for (const side of ['host', 'guest'] as const) {
      const lines = ours(side).map((d) => d.range.start.line);
      expect(new Set(lines).size, side).toBe(lines.length);
      const more = ours(side).filter((d) => d.code === MORE_PREEMPTIONS);
      expect(more, side).toHaveLength(1);
      expect(more[0]!.message).toMatch(
        /^… and [\d,]+ more vCPU preemptions .*\(all [\d,]+ together: [\d.]+ (ms|s)\)/,
      );
      // The barrier straggler (the passive run's most useful finding) is a warning, not an Info.
      const straggler = ours(side).find((d) =>
        d.message.includes('sat on a preempted or waiting vCPU'),
      );
      expect(straggler?.severity, side).toBe(2);
    }
  });

  it('offers "Show in Timeline" on every vCPU Lens finding, with the interval and lane it happened on', async () => {
    const diags = ours('host');
    expect(diags.length).toBeGreaterThan(3);
    for (const d of diags) {
      const actions = (await client.sendRequest('textDocument/codeAction', {
        textDocument: { uri: uri.host },
        range: d.range,
        context: { diagnostics: [d] },
      })) as CodeAction[];
      expect(actions.map((a) => a.title)).toEqual(['Show in Timeline']);
      expect(actions[0]!.command).toMatchObject({
        command: 'vcpuLens.showInTimeline',
        arguments: [uri.host, d.range],
      });
    }
    const pre = diags.filter((d) => d.code === 'vcpu-preempted');
    for (const d of pre) {
      const t = (await client.sendRequest(SHOW_IN_TIMELINE, {
        uri: uri.host,
        range: d.range,
      })) as RevealTarget;
      expect(t).toMatchObject({ hostUri: uri.host, guestUri: uri.guest });
      const v = /^vCPU (\d+) /.exec(d.message)![1];
      expect(parseLaneId(t.lane!)).toEqual({ kind: 'vcpu', n: Number(v) });
      // The interval is the preemption the message states (its duration, in ms).
      const ms = Number(/preempted for ([\d.]+) ms/.exec(d.message)![1]);
      expect(Math.abs((t.endNs - t.startNs) / 1e6 - ms)).toBeLessThan(0.002);
      expect(t.startNs).toBeGreaterThanOrEqual(0);
    }
  });

  it('from the interval back to the trace: the host line of the preempting switch', async () => {
    for (const d of ours('host').filter((x) => x.code === 'vcpu-preempted')) {
      const t = (await client.sendRequest(SHOW_IN_TIMELINE, {
        uri: uri.host,
        range: d.range,
      })) as RevealTarget;
      const r = await client.sendRequest(TRACE_LINE, {
        uri: uri.guest,
        lane: t.lane!,
        startNs: t.startNs,
        endNs: t.endNs,
      });
      expect(r).toEqual({ ok: true, uri: uri.host, line: d.range.start.line, dat: false });
    }
  });

  it('a .dat pair: Reveal in Trace answers the line of its trace-cmd report text (vcpuLens/datText)', async () => {
    const dat = pathToFileURL(path.join(FIX, 'host.dat')).toString();
    const r = await client.sendRequest(TRACE_LINE, {
      uri: dat,
      lane: laneId.vcpu(0),
      startNs: 1e9,
      endNs: 1e9 + 1,
    });
    if (!r.ok) throw new Error(r.message);
    expect(r).toMatchObject({ uri: dat, dat: true });
    const lines = ((await client.sendRequest(DAT_TEXT, { uri: dat })) ?? '').split('\n');
    expect(lines[0]).toMatch(/^cpus=\d+$/);
    // The first event of vCPU 0's host thread from that moment on: its comm, on that line.
    expect(lines[r.line]).toMatch(/CPU 0\/TCG/);
    // From the model's start, a host CPU's first event is the first line printed for that CPU.
    const cpu = Number(/\[(\d{3})\]/.exec(lines[1]!)![1]);
    const first = await client.sendRequest(TRACE_LINE, {
      uri: dat,
      lane: laneId.hostCpu(cpu),
      startNs: 0,
      endNs: 1,
    });
    const tag = `[${String(cpu).padStart(3, '0')}]`;
    expect(first).toMatchObject({ ok: true, line: lines.findIndex((l) => l.includes(tag)) });
  }, 120_000);

  it("a .dat's report text prints every event's text (markers, syscalls), though the server reads the .dat with only the analysis' text", async () => {
    const file = path.join(FIX, 'host.dat');
    const dat = pathToFileURL(file).toString();
    // The pair analysed first: the server has read host.dat for it.
    await client.sendRequest(TRACE_LINE, {
      uri: dat,
      lane: laneId.vcpu(0),
      startNs: 1e9,
      endNs: 1e9 + 1,
    });
    const served = (await client.sendRequest(DAT_TEXT, { uri: dat })) ?? '';
    // What `vcpu-lens dump` prints: the file read with all its event text.
    const whole = (await readTraceFile(file)).traces[0]!;
    const parts: string[] = [];
    writeTraceCmdText(whole, (c) => parts.push(c));
    expect(served).toBe(parts.join(''));
    expect(served).toMatch(/ print: +\S/);
    expect(served).toMatch(/ sys_enter_writev: +\S/);
  }, 120_000);

  it('a guest thread lane reveals a line of that thread in the guest trace', async () => {
    const d = ours('guest').find((x) => x.code === 'vcpu-preempted')!;
    const t = (await client.sendRequest(SHOW_IN_TIMELINE, {
      uri: uri.guest,
      range: d.range,
    })) as RevealTarget;
    const pid = Number(/^guest thread \S+-(\d+) /.exec(d.message)![1]);
    const r = await client.sendRequest(TRACE_LINE, {
      uri: uri.host,
      lane: laneId.guestThread(pid),
      startNs: t.startNs,
      endNs: t.endNs,
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.uri).toBe(uri.guest);
    expect(text.guest[r.line]!).toMatch(new RegExp(`(-${pid} |:${pid} )`));
  });
});
