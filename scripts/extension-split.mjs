// Where the time from a click on host.dat to its painted timeline went: the "vCPU Lens" log's
// lines (the extension's and the language server's marks, each with its timestamp) and the
// page's own paint times, laid out as steps on one clock. bench-extension prints it; its test
// feeds it log lines.

/** A mark: the first log line (at or after `from`) whose text matches, and what it is called. */
const MARKS = [
  [/^activated in (\d+) ms/, 'activation ends (extension host `activate` returns)'],
  [/^the language server is running/, 'language server running (initialized)'],
  [/: view opened, its page loading$/, 'timeline view opened: its page loading'],
  [/: its page is loaded and asks for its data$/, 'timeline page loaded: asks for its data'],
  [/^read (\S+) from disk in \d+ ms/, (m) => `${m[1]} read`],
  [/^analysed (\S+) \+ (\S+) in \d+ ms/, () => 'pair analysed (vCPU map, clock, stalls, findings)'],
  [/^timeline of (\S+) \+ (\S+) in \d+ ms/, () => 'timeline model and index built'],
  [/: its data sent to the page \d+ ms after it asked$/, 'timeline data sent to the page'],
  [/^advice for (\S+) \+ (\S+) in \d+ ms/, () => 'advice (the what-if) computed'],
];

/**
 * The steps of one open, each `{ label, at }` (epoch ms), sorted, and the span the goal measures:
 * from activation's end (or the click, when the extension was active before it) to the first
 * frame that drew the lanes from their data.
 * @param {[number, string][]} lines the log's (epoch ms, text), sorted by time
 * @param {{ clickAt: number, firstFrameAt?: number, tilesAt?: number, webview?: { outerAt?: number,
 *   innerAt?: number, resources?: { name: string, at: number }[] } }} page
 */
export function firstPaintSplit(lines, page) {
  const steps = [{ label: 'click on host.dat', at: page.clickAt }];
  const seen = new Set();
  let activationEnd;
  for (const [at, text] of lines) {
    if (at < page.clickAt) continue;
    for (const [re, name] of MARKS) {
      const m = re.exec(text);
      if (m === null) continue;
      const label = typeof name === 'function' ? name(m) : name;
      if (seen.has(label)) continue;
      seen.add(label);
      if (re === MARKS[0][0]) {
        activationEnd = at;
        steps.push({ label: 'activation starts', at: at - Number(m[1]) });
      }
      steps.push({ label, at });
    }
  }
  // The webview's own loading (the page's clocks): VS Code's frame, then ours and its bundle.
  const w = page.webview;
  if (w?.outerAt !== undefined)
    steps.push({ label: 'webview frame starts loading (VS Code)', at: w.outerAt });
  if (w?.innerAt !== undefined)
    steps.push({ label: 'timeline page document starts loading', at: w.innerAt });
  for (const r of w?.resources ?? []) steps.push({ label: `${r.name} fetched`, at: r.at });
  if (page.firstFrameAt !== undefined)
    steps.push({ label: 'first frame (lanes laid out)', at: page.firstFrameAt });
  if (page.tilesAt !== undefined)
    steps.push({ label: 'first frame with the lanes drawn from their data', at: page.tilesAt });
  steps.sort((a, b) => a.at - b.at);
  const from = Math.max(page.clickAt, activationEnd ?? page.clickAt);
  const paint = page.tilesAt ?? page.firstFrameAt;
  return {
    steps,
    from: activationEnd !== undefined && activationEnd > page.clickAt ? 'activation' : 'click',
    goalMs: paint === undefined ? undefined : paint - from,
  };
}

/** The split as a markdown table: each step's time after the click and since the step before. */
export function splitTable({ steps, from, goalMs }) {
  const t0 = steps[0].at;
  const rows = steps.map(
    (s, i) =>
      `| ${s.label} | ${((s.at - t0) / 1000).toFixed(2)} | ${i === 0 ? '' : ((s.at - steps[i - 1].at) / 1000).toFixed(2)} |`,
  );
  return (
    '| step | s after the click | s since the step before |\n|---|--:|--:|\n' +
    rows.join('\n') +
    '\n' +
    (goalMs === undefined
      ? ''
      : `\nFirst paint ${(goalMs / 1000).toFixed(2)} s after ${from === 'activation' ? "activation's end" : 'the click'} (goal: ≤ 2 s).\n`)
  );
}
