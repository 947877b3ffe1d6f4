// vCPU Lens inside a real VS Code: the workspace holds a real host + guest pair (host.txt,
// guest.txt from test/fixtures/real/quiet-passive-local), prepared by the runner.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { FleetRow } from '../../src/core/view/fleet-table';
import type { VcpuLensApi } from '../../src/extension/ctx';

const ws = (): vscode.Uri => vscode.workspace.workspaceFolders![0]!.uri;

/** Resolves when `pred` holds, re-checked on every diagnostics change (no fixed sleeps). */
function diagnosticsWhere(
  uri: vscode.Uri,
  pred: (d: vscode.Diagnostic[]) => boolean,
): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const d = vscode.languages.getDiagnostics(uri);
      if (!pred(d)) return false;
      sub.dispose();
      resolve(d);
      return true;
    };
    const sub = vscode.languages.onDidChangeDiagnostics(() => void check());
    check();
  });
}

describe('vCPU Lens in VS Code', () => {
  let host: vscode.Uri;
  let hostDoc: vscode.TextDocument;

  before(async () => {
    host = vscode.Uri.joinPath(ws(), 'host.txt');
    hostDoc = await vscode.workspace.openTextDocument(host);
    await vscode.window.showTextDocument(hostDoc);
  });

  it('recognises trace files by name and by content, and activates on them', async () => {
    assert.equal(hostDoc.languageId, 'trace-cmd-report');
    const raw = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(ws(), 'capture-raw'));
    assert.equal(raw.languageId, 'ftrace-text'); // first line `# tracer: nop`
    const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'vcpu-lens');
    assert.ok(ext, 'the extension is installed');
    await ext.activate();
    const cmds = await vscode.commands.getCommands(true);
    for (const c of [
      'vcpuLens.simulate',
      'vcpuLens.analyze',
      'vcpuLens.pairTraces',
      'vcpuLens.showAdvice',
    ])
      assert.ok(cmds.includes(c), c);
  });

  it('puts the guest-paired preemptions on the host lines that caused them', async () => {
    const d = await diagnosticsWhere(host, (x) => x.some((y) => y.code === 'vcpu-preempted'));
    const pre = d.filter((x) => x.code === 'vcpu-preempted');
    // The longest few (vcpuLens.maxStallDiagnostics, 3 by default); the rest are one "… and N more".
    assert.equal(pre.length, 3, `${pre.length} preemption diagnostics`);
    for (const x of pre.slice(0, 20)) {
      const line = hostDoc.lineAt(x.range.start.line).text;
      assert.match(line, /sched_switch: +CPU [0-3]\/TCG:331[5-8] \[\d+\] R\+? ==>/);
      assert.equal(x.severity, vscode.DiagnosticSeverity.Warning);
    }
  });

  it('hovers a vCPU switch with the aligned guest time', async () => {
    const line = hostDoc
      .getText()
      .split('\n')
      .findIndex((l) => /sched_switch: +CPU 1\/TCG:3316 \[120\] R/.test(l));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      host,
      new vscode.Position(line, 3),
    );
    const text = hovers
      .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)))
      .join('\n');
    assert.match(text, /on the guest: \d+\.\d{9}/);
    assert.match(text, /vCPU 1 over the [\d.]+ m?s both traces cover: running/);
  });

  it('lists CPUs and tasks as symbols', async () => {
    const s = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>(
      'vscode.executeDocumentSymbolProvider',
      host,
    );
    assert.deepEqual(
      s.find((x) => x.name === 'CPUs')!.children.map((c) => c.name),
      ['CPU 0', 'CPU 1'],
    );
    assert.ok(s.find((x) => x.name === 'Tasks')!.children.some((c) => c.name === 'CPU 1/TCG-3316'));
  });

  it('Analyze opens a report with the vCPU map and the advice', async () => {
    await vscode.commands.executeCommand('vcpuLens.analyze', host);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'vcpu-lens-report');
    assert.ok(doc, 'a report document is open');
    const text = doc.getText();
    assert.match(text, /# vCPU Lens analysis/);
    assert.match(text, /\| 1 \| CPU 1\/TCG \(3316\) \|/);
    assert.match(text, /wait policy \*\*passive\*\*/);
  });

  it('opens the timeline of the pair in a webview panel', async () => {
    const find = (): vscode.Tab | undefined =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.label === 'Timeline: host.txt');
    // The tab model reaches the extension host asynchronously: wait on its change event.
    const opened = new Promise<vscode.Tab>((resolve) => {
      const sub = vscode.window.tabGroups.onDidChangeTabs(() => {
        const t = find();
        if (t === undefined) return;
        sub.dispose();
        resolve(t);
      });
    });
    await vscode.commands.executeCommand('vcpuLens.openTimeline', host);
    const tab = find() ?? (await opened);
    assert.ok(tab.input instanceof vscode.TabInputWebview, 'a webview tab');
    assert.match((tab.input as vscode.TabInputWebview).viewType, /vcpuLens\.timeline$/);
  });

  it("Analyze Folder of Traces lists the workspace's pairs in a runs table", async () => {
    const rows = await vscode.commands.executeCommand<FleetRow[] | undefined>(
      'vcpuLens.analyzeFolder',
    );
    assert.ok(rows, 'the rows');
    // The workspace folder is a pair itself (host.txt, guest.txt), and dat/ holds the .dat pair.
    assert.deepEqual(
      rows.map((r) => [r.run, r.hostFile.replace(/^.*\//, ''), r.ok]),
      [
        [ws().path.replace(/^.*\//, ''), 'host.txt', true],
        ['dat', 'host.dat', true],
      ],
    );
    // The tab model follows the panel asynchronously: wait for it (as the timeline test does).
    const runsTab = (): vscode.Tab | undefined =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'vCPU Lens Runs');
    for (let i = 0; i < 50 && runsTab() === undefined; i++)
      await new Promise((r) => setTimeout(r, 100));
    const tab = runsTab();
    assert.ok(tab?.input instanceof vscode.TabInputWebview, 'the runs table is a webview tab');
    assert.match((tab.input as vscode.TabInputWebview).viewType, /vcpuLens\.fleet$/);
  });

  it('exports the HTML report and the Perfetto JSON through the language server', async () => {
    const html = vscode.Uri.joinPath(ws(), 'out', 'pair.report.html');
    const json = vscode.Uri.joinPath(ws(), 'out', 'pair.perfetto.json');
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(ws(), 'out'));
    await vscode.commands.executeCommand('vcpuLens.exportHtmlReport', host, html);
    await vscode.commands.executeCommand('vcpuLens.exportPerfetto', host, json);
    const page = new TextDecoder().decode(await vscode.workspace.fs.readFile(html));
    assert.match(page, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(page, /<script type="application\/json" id="vcpu-lens-model">/);
    const trace = JSON.parse(
      new TextDecoder().decode(await vscode.workspace.fs.readFile(json)),
    ) as {
      traceEvents: { ph: string; name: string }[];
    };
    assert.ok(trace.traceEvents.some((e) => e.ph === 'X'));
    assert.ok(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name'));
  });

  it('opens a .dat in the read-only timeline editor', async function () {
    const dat = vscode.Uri.joinPath(ws(), 'dat', 'host.dat');
    // The real .dat pair comes from ../shared beside the clone (the runner copies it when there).
    if (
      !(await vscode.workspace.fs.stat(dat).then(
        () => true,
        () => false,
      ))
    )
      this.skip();
    await vscode.commands.executeCommand('vscode.open', dat);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputCustom, 'a custom editor tab');
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'vcpuLens.datTrace');
    assert.equal((tab.input as vscode.TabInputCustom).uri.toString(), dat.toString());
  });

  it('Simulate runs in the language server; the run opens as a read-only simulated trace with its findings', async () => {
    const opened = await vscode.commands.executeCommand<string | undefined>('vcpuLens.simulate', {
      preset: 'small',
      policy: 'spin',
      dop: 'fixed',
      seed: 1,
    });
    // A document of the simulated place, named for the run (never a file in storage).
    const doc = vscode.workspace.textDocuments.find(
      (d) =>
        d.uri.scheme === 'vcpu-lens-sim' &&
        d.uri.path === '/simulated: small spin, DoP fixed · host.txt',
    );
    assert.ok(doc, 'the simulated host trace is open');
    assert.equal(opened, doc.uri.toString(), 'the command returns the run’s host trace');
    // The tabs as the extension host learns of them (a moment after the panels are made).
    const labels = (): string[] =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter((t) => t.input instanceof vscode.TabInputWebview)
        .map((t) => t.label);
    const webviewTab = (label: string): Promise<boolean> =>
      new Promise((resolve) => {
        const done = (v: boolean): void => {
          sub.dispose();
          clearTimeout(timer);
          resolve(v);
        };
        const sub = vscode.window.tabGroups.onDidChangeTabs(() => {
          if (labels().includes(label)) done(true);
        });
        const timer = setTimeout(() => done(labels().includes(label)), 30_000);
        if (labels().includes(label)) done(true);
      });
    assert.ok(await webviewTab('vCPU Lens Simulator'), 'the dashboard is open');
    assert.ok(
      await webviewTab('Timeline: simulated: small spin, DoP fixed · host.txt'),
      `its timeline is open (webview tabs: ${labels().join(' | ')})`,
    );
    const d = await diagnosticsWhere(doc.uri, (x) => x.some((y) => y.code === 'vcpu-preempted'));
    assert.ok(d.length > 0);
  });
});

describe('vCPU Lens when its language server dies', () => {
  const api = (): VcpuLensApi =>
    vscode.extensions.all.find((e) => e.packageJSON.name === 'vcpu-lens')!.exports as VcpuLensApi;

  /** Resolves once the server runs with a process other than `not` (on its state events). */
  const runningOther = (not: number | undefined): Promise<number> =>
    new Promise((resolve) => {
      const check = (): boolean => {
        const pid = api().serverPid();
        if (api().serverState() !== 'running' || pid === undefined || pid === not) return false;
        sub.dispose();
        resolve(pid);
        return true;
      };
      const sub = api().onDidChangeServerState(() => void check());
      check();
    });
  const stopped = (): Promise<void> =>
    new Promise((resolve) => {
      const sub = api().onDidChangeServerState((s) => {
        if (s !== 'stopped') return;
        sub.dispose();
        resolve();
      });
    });

  it('is restarted after a kill mid-parse, the user is told, and after repeated crashes commands say it is down', async () => {
    let pid = await runningOther(undefined);
    // A trace being parsed when the server is killed: a fresh copy of the pair, opened.
    const dir = vscode.Uri.joinPath(ws(), 'crash');
    for (const f of ['host.txt', 'guest.txt'])
      await vscode.workspace.fs.copy(vscode.Uri.joinPath(ws(), f), vscode.Uri.joinPath(dir, f), {
        overwrite: true,
      });
    await vscode.workspace.openTextDocument(vscode.Uri.joinPath(dir, 'guest.txt'));
    process.kill(pid, 'SIGKILL');
    pid = await runningOther(pid);
    assert.match(api().notices().at(-1) ?? '', /stopped unexpectedly and was restarted/);
    // The restarted server has the open traces again: Analyze works without a word of trouble.
    const host = vscode.Uri.joinPath(ws(), 'host.txt');
    const told = api().notices().length;
    await vscode.commands.executeCommand('vcpuLens.analyze', host);
    assert.equal(api().notices().length, told, api().notices().at(-1));
    // Three more crashes within minutes: it stays down and says so.
    for (let k = 0; k < 2; k++) {
      process.kill(pid, 'SIGKILL');
      pid = await runningOther(pid);
    }
    const down = stopped();
    process.kill(pid, 'SIGKILL');
    await down;
    assert.match(api().notices().at(-1) ?? '', /was not restarted/);
    assert.match(api().statusText(), /server stopped/);
    const before = api().notices().length;
    await vscode.commands.executeCommand('vcpuLens.analyze', host);
    assert.ok(api().notices().length > before, 'the command told the user');
    assert.match(api().notices().at(-1) ?? '', /language server is not running/);
    // The user restarts it.
    await vscode.commands.executeCommand('vcpuLens.restartServer');
    await runningOther(pid);
  });
});
