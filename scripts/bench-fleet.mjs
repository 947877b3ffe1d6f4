// Issue #22's scale check: `vcpu-lens fleet` over N copies of one real lab pair (symlinked
// folders, so every copy is read and analysed for real), then the dataset's size and a DuckDB
// query over it, through DuckDB's API (the query alone) and through `vcpu-lens sql` (the whole
// command: Node's start, the bundle, DuckDB's load).
//
//   node scripts/bench-fleet.mjs [--copies N] [--pair NAME] [--runs K] [--write]

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  FIXTURES,
  fmt,
  fmtInt,
  log,
  machine,
  median,
  ROOT,
  writeBenchSection,
} from './bench-lib.mjs';

const { values: v } = parseArgs({
  options: {
    copies: { type: 'string', default: '100' },
    pair: { type: 'string', default: 'quiet-passive-local' },
    runs: { type: 'string', default: '5' },
    write: { type: 'boolean', default: false },
  },
});
const copies = Number(v.copies);
const runs = Number(v.runs);
const CLI = path.join(ROOT, 'dist/cli.js');
const QUERY =
  'select r.program, v.state, count(*) as n, sum(v.end_ns - v.start_ns) as ns ' +
  'from vcpu_states v join runs r using (run) group by all order by ns desc';

/** Bytes under a folder. */
function du(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? du(p) : statSync(p).size;
  }
  return n;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vl-bench-fleet-'));
try {
  const src = path.join(FIXTURES, v.pair);
  const pairs = [];
  for (let i = 0; i < copies; i++) {
    const d = path.join(tmp, 'pairs', `${v.pair}-${String(i).padStart(3, '0')}`);
    mkdirSync(d, { recursive: true });
    for (const f of readdirSync(src))
      if (/^(host|guest)\./.test(f)) symlinkSync(path.join(src, f), path.join(d, f));
    pairs.push(d);
  }
  const out = path.join(tmp, 'data');
  log(`fleet over ${copies} copies of ${v.pair} ...`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'fleet', '--out', out, ...pairs], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const fleetS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`fleet exited with ${r.status}: ${r.stderr.slice(-2000)}`);
  const bytes = du(out);

  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  for (const t of ['runs', 'vcpu_states'])
    await c.run(
      `create view ${t} as select * from read_parquet('${path.join(out, t, 'run=*', '*.parquet')}', hive_partitioning = true, hive_types = {'run': VARCHAR})`,
    );
  const rows = Number((await c.runAndReadAll('select count(*) from vcpu_states')).getRows()[0][0]);
  const api = [];
  const cmd = [];
  const node = [];
  for (let k = 0; k < runs; k++) {
    let t = performance.now();
    await c.runAndReadAll(QUERY);
    api.push(performance.now() - t);
    t = performance.now();
    const q = spawnSync(process.execPath, [CLI, 'sql', QUERY, '--data', out], { encoding: 'utf8' });
    cmd.push(performance.now() - t);
    if (q.status !== 0) throw new Error(`sql exited with ${q.status}: ${q.stderr}`);
    t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    node.push(performance.now() - t);
  }
  c.closeSync();

  const m = machine();
  const section = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${fmt(m.ramGiB, 1)} GiB RAM, Node ${m.node}, ${m.date} (UTC), source ${m.rev}; load average ${os
      .loadavg()
      .map((x) => fmt(x, 1))
      .join(' / ')} (1/5/15 min) at the end.`,
    '',
    '| what | value |',
    '|---|---:|',
    `| pairs (symlinked copies of ${v.pair}) | ${fmtInt(copies)} |`,
    `| \`fleet\` wall | ${fmt(fleetS, 1)} s |`,
    `| pairs per minute | ${fmt((copies / fleetS) * 60, 1)} |`,
    `| dataset on disk | ${fmt(bytes / 2 ** 20, 1)} MiB |`,
    `| \`vcpu_states\` rows | ${fmtInt(rows)} |`,
    `| the query through DuckDB's API, median of ${runs} | ${fmt(median(api), 0)} ms |`,
    `| \`vcpu-lens sql\` (whole command), median of ${runs} | ${fmt(median(cmd), 0)} ms |`,
    `| \`node -e 0\`, median of ${runs} | ${fmt(median(node), 0)} ms |`,
    '',
    `The query: \`${QUERY}\`.`,
  ].join('\n');
  console.log(section);
  if (v.write)
    writeBenchSection(
      '## Fleet scale (issue #22)',
      'Written by `node scripts/bench-fleet.mjs --write`: `vcpu-lens fleet` over copies of one real lab pair on this machine, the Parquet dataset it wrote, and a DuckDB query over every run.',
      section,
    );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
