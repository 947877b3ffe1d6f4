// Where the time from a click on host.dat to its painted timeline went: the "vCPU Lens" log's
// lines (the extension's and the language server's marks, each with its timestamp) and the
// page's own paint times, laid out as steps on one clock. bench-extension prints it; its test
// feeds it log lines.

const CACHED = 'timeline model read from the cache (the last session built it)';

/** A mark: the first log line (at or after `from`) whose text matches, and what it is called. */
const MARKS = [
  [/^activated in (\d+) ms/, 'activation ends (extension host `activate` returns)'],
  [/^the language server is running/, 'language server running (initialized)'],
  [
    /: its document opened, the pair asked for$/,
    'its custom editor document opened: the pair asked for',
  ],
  [/: view opened, its page loading$/, 'timeline view opened: its page loading'],
  [/: its page is loaded and asks for its data$/, 'timeline page loaded: asks for its data'],
  [/^read (\S+) from disk in \d+ ms/, (m) => `${m[1]} read`],
  [/^analysed (\S+) \+ (\S+) in \d+ ms/, () => 'pair analysed (vCPU map, clock, stalls, findings)'],
  [/^timeline of (\S+) \+ (\S+) in \d+ ms/, () => 'timeline model and index built'],
  [/^timeline of \S+ \+ \S+ from the cache in \d+ ms$/, CACHED],
  [
    /^timeline of \S+ \+ \S+: \d+ lanes' level of detail built in \d+ ms$/,
    "the lanes' level of detail built (between the page's requests; a lane without is read from its intervals)",
  ],
  [/: the server answered its data request in \d+ ms$/, 'the server answered that request (extension host)'],
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
  for (const m of webviewMarks(w?.marks)) steps.push(m);
  for (const r of w?.resources ?? []) steps.push({ label: `${r.name} fetched`, at: r.at });
  if (page.firstFrameAt !== undefined)
    steps.push({ label: 'first frame (lanes laid out)', at: page.firstFrameAt });
  if (page.tilesAt !== undefined)
    steps.push({ label: 'first frame with the lanes drawn from their data', at: page.tilesAt });
  steps.sort((a, b) => a.at - b.at);
  const from = Math.max(page.clickAt, activationEnd ?? page.clickAt);
  const paint = page.tilesAt ?? page.firstFrameAt;
  const cached = steps.find((s) => s.label === CACHED)?.at;
  const indexed = cached ?? steps.find((s) => s.label === 'timeline model and index built')?.at;
  return {
    steps,
    from: activationEnd !== undefined && activationEnd > page.clickAt ? 'activation' : 'click',
    goalMs: paint === undefined ? undefined : paint - from,
    // Our own part: the pair read, analysed and indexed (the page's data ready to send).
    oursMs: indexed === undefined ? undefined : indexed - from,
    // A returning user's pair: the model the last session built, read back (the analysis after).
    fromCache: cached !== undefined,
  };
}

/**
 * VS Code's webview host page (its `pre/index.html`, the frame around ours) marks its steps with
 * `performance.mark('webview/index.html/<step>')`: what each is, in order. The first of each.
 */
const WEBVIEW_MARKS = [
  ['scriptStart', "VS Code's webview host page runs its script"],
  ['signalingReady', 'it tells the workbench it is ready'],
  ['content/started', 'it receives the page (our HTML)'],
  ['content/workerReady', 'its service worker is ready'],
  ['content/innerFrameLoaded', 'its empty inner frame (fake.html) loaded'],
  ['content/wroteInnerContent', 'our HTML written into that frame'],
];

/**
 * Marks the bench adds to that page (bench-extension.mjs watchServiceWorkerUpdate): when it asks
 * its service worker's registration to update, and when that is done.
 */
const BENCH_MARKS = [
  [
    'update-called',
    'it asks its new service worker to update (the page is controlled by another, code-server’s)',
  ],
  ['update-done', 'that update done'],
];

/** The host page's marks (`{ name, at }`, epoch ms) as steps, labelled. */
function webviewMarks(marks) {
  const out = [];
  const add = (prefix, list) => {
    for (const [name, label] of list) {
      const m = (marks ?? []).find((x) => x.name === `${prefix}${name}`);
      if (m !== undefined) out.push({ label, at: m.at });
    }
  };
  add('webview/index.html/', WEBVIEW_MARKS);
  add('vcpu-lens-bench/', BENCH_MARKS);
  return out;
}

/**
 * The control: a blank webview (test/e2e/blank-webview, a page that only marks its first frame)
 * opened in the same window, its steps from the moment its panel was made, and that span.
 * @param {{ createdAt: number, outerAt?: number, marks?: { name: string, at: number }[],
 *   innerAt?: number, paintedAt: number }} blank
 * @param {string} label what this open was (e.g. 'first webview of the window')
 */
export function blankSplit(blank, label) {
  const steps = [
    { label: 'blank panel made (its HTML set)', at: blank.createdAt },
    ...(blank.outerAt !== undefined
      ? [{ label: 'webview frame starts loading (VS Code)', at: blank.outerAt }]
      : []),
    ...webviewMarks(blank.marks),
    ...(blank.innerAt !== undefined
      ? [{ label: 'blank page document starts loading', at: blank.innerAt }]
      : []),
    { label: 'blank page first frame', at: blank.paintedAt },
  ].sort((a, b) => a.at - b.at);
  return { steps, label, loadMs: blank.paintedAt - blank.createdAt };
}

/** The blank webviews' steps side by side as a markdown table (one column per open). */
export function blankTable(blanks) {
  if (blanks.length === 0) return '';
  const labels = [];
  for (const b of blanks)
    for (const s of b.steps) if (!labels.includes(s.label)) labels.push(s.label);
  // Rows in the order of the first open's steps; a step another open lacks is left blank.
  const rows = labels.map(
    (l) =>
      `| ${l} | ${blanks
        .map((b) => {
          const s = b.steps.find((x) => x.label === l);
          return s === undefined ? '' : ((s.at - b.steps[0].at) / 1000).toFixed(2);
        })
        .join(' | ')} |`,
  );
  return (
    `| step (s after the panel was made) | ${blanks.map((b) => b.label).join(' | ')} |\n` +
    `|---|${blanks.map(() => '--:').join('|')}|\n` +
    rows.join('\n') +
    '\n'
  );
}

/**
 * The split as a markdown table: each step's time after the click and since the step before;
 * then the goal's number, and beside it (context, not a new goal) our own part and the first
 * paint less a blank webview's load (panel made to its first frame) in the same window.
 */
export function splitTable({ steps, from, goalMs, oursMs, fromCache }, blank) {
  const since = from === 'activation' ? "activation's end" : 'the click';
  const at = (label) => steps.find((s) => s.label === label)?.at;
  const [got, ready] = [at(WEBVIEW_MARKS[2][1]), at(WEBVIEW_MARKS[3][1])];
  const swWait = got === undefined || ready === undefined ? undefined : ready - got;
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
      : `\nFirst paint ${(goalMs / 1000).toFixed(2)} s after ${since} (goal: ≤ 2 s).\n`) +
    (oursMs === undefined
      ? ''
      : `Our part of it: ${fromCache === true ? 'the timeline read from the cache the last session wrote' : 'the pair read, analysed and indexed'} ${(oursMs / 1000).toFixed(2)} s after ${since}.\n`) +
    (swWait === undefined
      ? ''
      : `Of the webview's load, VS Code's host page waiting for its service worker before it loads ours: ${(swWait / 1000).toFixed(2)} s` +
        // Explained where it is most of the load: a browser profile's first webview.
        (swWait < 500
          ? '.\n'
          : " (a browser profile's first webview registers it; under code-server the page is then controlled by code-server's own " +
            'service worker, so the host page also calls `registration.update()` on the new one and waits for that: ~3 s on a quiet machine, ' +
            'the new worker itself active in milliseconds)' +
            (goalMs === undefined
              ? '.\n'
              : `; first paint less that wait: ${((goalMs - swWait) / 1000).toFixed(2)} s.\n`))) +
    (goalMs === undefined || blank === undefined
      ? ''
      : `Context (not the goal's number): first paint after ${since}, less VS Code's own blank webview load ` +
        `measured in the same window (${blank.label}: panel made to its first frame, ${(blank.loadMs / 1000).toFixed(2)} s): ` +
        `${((goalMs - blank.loadMs) / 1000).toFixed(2)} s.\n`)
  );
}
