// A guest trace opened alone in the editor (no host trace named or beside it), over the language
// server (in-memory streams): guest-only mode. Its diagnostics say the vCPU was absent (inferred,
// with evidence and confidence), never who preempted it; the advice says it is inferred; "Show in
// Timeline" lands on the guest CPU lane with the hatched absences; "Reveal in Trace" opens only
// guest lines. A guest trace without tick or timer events gets VL1017 naming what to record.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, Hover } from 'vscode-languageserver';
import { DIAG } from '../../src/core/model/diagnostics';
import { laneId, parseLaneId } from '../../src/core/view/lane-id';
import { PROTOCOL_VERSION, ViewState } from '../../src/core/view/states';
import {
  ANALYZE,
  AnalyzeResult,
  DOC_STATUS,
  RevealTarget,
  SHOW_IN_TIMELINE,
  TIMELINE,
  TRACE_LINE,
} from '../../src/protocol/lsp-ext';
import { MORE_PREEMPTIONS } from '../../src/server/analysis-diagnostics';
import type { ServerHandle } from '../../src/server/server';
import { REAL } from './support/fixtures';
import { connectServer, type LspSession } from './support/lsp';

const FIX = path.join(REAL, 'guestonly-quiet-active');
/** The events the absence inference reads: dropped to make a guest trace it cannot read. */
const TIMER_EVENTS = /\b(local_timer_entry|hrtimer_start|hrtimer_expire_entry):/;

describe('language server: a guest trace alone (guest-only, inferred)', () => {
  let client: MessageConnection;
  let server: ServerHandle;
  let lines: string[] = [];
  let uri = '';
  let bareUri = '';
  let latest: LspSession['latest'];
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-guest-only-'));

  const open = async (file: string, text: string): Promise<string> => {
    writeFileSync(file, text);
    const u = pathToFileURL(file).toString();
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri: u, languageId: 'trace-cmd-report', version: 1, text },
    });
    await client.sendRequest(DOC_STATUS, { uri: u });
    await server.idle();
    return u;
  };

  beforeAll(async () => {
    const c = connectServer();
    ({ client, server } = c);
    latest = c.latest;
    await c.start();
    // Alone in its folder: no host.* beside it (the lab's folder has the host's).
    const t = gunzipSync(readFileSync(path.join(FIX, 'guest.txt.gz'))).toString('utf8');
    lines = t.split('\n');
    uri = await open(path.join(dir, 'guest.txt'), t);
    // The same guest without its tick and timer events, alone in another folder.
    mkdirSync(path.join(dir, 'bare'));
    const bare = lines.filter((l) => !TIMER_EVENTS.test(l)).join('\n');
    bareUri = await open(path.join(dir, 'bare', 'guest.txt'), bare);
  }, 120_000);

  afterAll(() => client?.dispose());

  const ours = (u: string): Diagnostic[] =>
    latest(u).filter((d) => d.source === 'vcpu-lens' && d.data !== undefined);

  it('says the vCPU was absent (inferred, with its evidence and confidence), on the thread’s own line', () => {
    const absent = ours(uri).filter((d) => d.code === 'vcpu-absent');
    expect(absent.length).toBeGreaterThan(0);
    for (const d of absent) {
      const m =
        /^guest thread (\S+)-(\d+) on CPU (\d+) lost [\d.]+ (µs|ms|s): its vCPU was absent \(inferred from this guest trace alone[^)]*\); evidence: (late-timer|late-tick|late-wakeup) \([^)]*\), confidence (0\.\d\d|1\.00), its start uncertain by /.exec(
          d.message,
        );
      expect(m, d.message).not.toBeNull();
      const line = lines[d.range.start.line]!;
      expect(line).toContain(`[${m![3]!.padStart(3, '0')}]`);
      expect(line).toMatch(new RegExp(`(${m![1]}-${m![2]} |:${m![2]} )`));
    }
  });

  it('never names a host task that preempted the vCPU: the host is not known', () => {
    const all = ours(uri);
    expect(all.length).toBeGreaterThan(0);
    for (const d of all) {
      expect(d.message).not.toMatch(/<host>|preempted its vCPU for|preempted for/);
      expect(d.code).not.toBe('vcpu-preempted');
    }
    // The findings (read on the modelled host) say they are inferred.
    const findings = all.filter((d) => !/^vcpu-/.test(String(d.code)));
    expect(findings.length).toBeGreaterThan(0);
    for (const d of findings) expect(d.message).toMatch(/inferred from this guest trace alone/);
    const more = all.filter((d) => d.code === MORE_PREEMPTIONS);
    expect(more).toHaveLength(1);
    expect(more[0]!.message).toMatch(/^… and [\d,]+ more inferred vCPU absences /);
  });

  it('the analysis and the advice say they are inferred', async () => {
    const r = (await client.sendRequest(ANALYZE, { uri })) as AnalyzeResult;
    if (!r.ok) throw new Error(r.message);
    expect(r).toMatchObject({ hostUri: uri, guestUri: uri });
    expect(r.report.guestOnly?.inferred).toBe(true);
    expect(r.markdown.advice).toMatch(/^# vCPU Lens advice \(guest only: inferred\)/);
    expect(r.markdown.advice).toContain('## Advice (inferred from the guest alone)');
    expect(r.summary.some((l) => l.startsWith('inferred from the guest alone:'))).toBe(true);
    expect(r.markdown.analysis).toContain('## vCPU absence (inferred)');
    expect(r.markdown.analysis).not.toContain('## Clock map');
    // The status bar counts the inferred absences, not the modelled host's preemptions.
    const st = await client.sendRequest(DOC_STATUS, { uri });
    const go = r.report.guestOnly!;
    expect(st).toMatchObject({
      guestOnly: true,
      pairUri: null,
      preemptions: go.intervals.length,
      preempted: go.perVcpu.reduce((n, v) => n + v.absent, 0),
    });
  });

  it('"Show in Timeline" lands on the guest CPU lane, where the absence is drawn hatched', async () => {
    const d = ours(uri).find((x) => x.code === 'vcpu-absent')!;
    const t = (await client.sendRequest(SHOW_IN_TIMELINE, { uri, range: d.range })) as RevealTarget;
    const v = Number(/ on CPU (\d+) /.exec(d.message)![1]);
    expect(t).toMatchObject({ hostUri: uri, guestUri: uri, lane: laneId.guestCpu(v) });
    const ms = Number(/ lost ([\d.]+) ms/.exec(d.message)?.[1] ?? NaN);
    if (!Number.isNaN(ms)) expect(Math.abs((t.endNs - t.startNs) / 1e6 - ms)).toBeLessThan(0.01);

    const init = await client.sendRequest(TIMELINE, {
      uri,
      body: { kind: 'ready', protocol: PROTOCOL_VERSION },
    });
    if (init.kind !== 'init') throw new Error(JSON.stringify(init));
    expect(init.meta.guestOnly).toBe(true);
    const ids = init.meta.lanes.map((l) => l.id);
    expect(ids).toContain(laneId.guestCpu(v));
    expect(ids.some((id) => parseLaneId(id)?.kind === 'hcpu')).toBe(false);
    // The absence, at a resolution finer than it: the absent state on the guest CPU's lane.
    const res = 2 ** Math.floor(Math.log2(Math.max(1, (t.endNs - t.startNs) / 16)));
    const w = await client.sendRequest(TIMELINE, {
      uri,
      body: {
        kind: 'requestWindow',
        startNs: t.startNs,
        endNs: t.endNs,
        resolutionNs: res,
        lanes: [laneId.guestCpu(v)],
      },
    });
    if (w.kind !== 'window') throw new Error(JSON.stringify(w));
    expect(w.lanes[0]!.states).toContain(ViewState.absent);
  });

  it('"Reveal in Trace" opens guest lines only: the modelled host has none', async () => {
    const d = ours(uri).find((x) => x.code === 'vcpu-absent')!;
    const t = (await client.sendRequest(SHOW_IN_TIMELINE, { uri, range: d.range })) as RevealTarget;
    const v = parseLaneId(t.lane!)!.n;
    const onVcpu = await client.sendRequest(TRACE_LINE, {
      uri,
      lane: laneId.vcpu(v),
      startNs: t.startNs,
      endNs: t.endNs,
    });
    expect(onVcpu.ok).toBe(false);
    if (!onVcpu.ok) expect(onVcpu.message).toContain(`guest CPU ${v}`);
    const onCpu = await client.sendRequest(TRACE_LINE, {
      uri,
      lane: t.lane!,
      startNs: t.startNs,
      endNs: t.endNs,
    });
    if (!onCpu.ok) throw new Error(onCpu.message);
    expect(onCpu.uri).toBe(uri);
    expect(lines[onCpu.line]).toContain(`[${String(v).padStart(3, '0')}]`);
  });

  it('a hover on a guest line shows no host time: the host is a model on the guest’s clock', async () => {
    const d = ours(uri).find((x) => x.code === 'vcpu-absent')!;
    const h = (await client.sendRequest('textDocument/hover', {
      textDocument: { uri },
      position: { line: d.range.start.line, character: 0 },
    })) as Hover | null;
    const text = JSON.stringify(h?.contents ?? '');
    expect(text).toMatch(/ on CPU \d+ at /);
    expect(text).not.toContain('on the host');
  });

  it('a guest .dat alone, not open as a document (the custom editor, the explorer): guest-only too', async () => {
    mkdirSync(path.join(dir, 'dat'));
    const file = path.join(dir, 'dat', 'guest.dat');
    copyFileSync(path.join(FIX, 'guest.dat'), file);
    const r = (await client.sendRequest(ANALYZE, {
      uri: pathToFileURL(file).toString(),
    })) as AnalyzeResult;
    if (!r.ok) throw new Error(r.message);
    expect(r.report.guestOnly?.inferred).toBe(true);
    expect(r.report.guestOnly!.intervals.length).toBeGreaterThan(0);
  }, 60_000);

  it('a guest trace without tick or timer events: VL1017 naming the events to record, nothing inferred', async () => {
    const all = latest(bareUri);
    const vl = all.filter((d) => d.code === DIAG.guestOnlyNoTimers);
    expect(vl).toHaveLength(1);
    expect(vl[0]!.range.start.line).toBe(0);
    expect(vl[0]!.message).toContain('irq_vectors:local_timer_entry');
    expect(vl[0]!.message).toContain('trace-cmd record -e sched -e irq_vectors:local_timer_entry');
    expect(all.filter((d) => d.code === 'vcpu-absent')).toEqual([]);
    const r = (await client.sendRequest(ANALYZE, { uri: bareUri })) as AnalyzeResult;
    if (!r.ok) throw new Error(r.message);
    expect(r.report.advice).toBeNull();
    expect(r.markdown.analysis).toContain('no absence can be inferred');
  });
});
