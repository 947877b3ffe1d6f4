// `analyze --parquet` writes one run of the fleet dataset, and `vcpu-lens sql` answers over it as a
// table, JSON or CSV; an empty dataset has every view with no rows, and a bad query is a usage
// error naming DuckDB's reason (issue #22).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairFile } from '../../src/core/io/pair-folder';
import { ExitCode } from '../../src/cli/exit-codes';
import { REAL } from './support/fixtures';
import { captureStderr } from './support/stderr';

process.env['VCPU_LENS_NO_MAIN'] = '1';
const { main } = await import('../../src/cli/main');

let why: string | undefined;
try {
  await import('@duckdb/node-api');
} catch (e) {
  why = ` (skipped: @duckdb/node-api cannot be loaded: ${(e as Error).message.split('\n')[0]})`;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'vl-fleet-sql-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DATA = path.join(tmp, 'data');
const PAIR = path.join(REAL, 'quiet-passive-local');

const stderr = captureStderr();

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await main(argv, (s) => out.push(s));
  return { code, out: out.join('\n') };
}

let analyzed: { code: number; out: string } | undefined;
let report: { vcpuTime: { vcpu: number; running: number }[]; findings: unknown[] } | undefined;
beforeAll(async () => {
  if (why !== undefined) return;
  analyzed = await cli(
    'analyze',
    '--host',
    path.join(PAIR, 'host.dat'),
    '--guest',
    path.join(PAIR, 'guest.dat'),
    '--json',
    '--parquet',
    DATA,
    '--name',
    'one',
  );
  report = JSON.parse(analyzed.out) as typeof report;
}, 300_000);

describe('analyze --parquet and sql', () => {
  it.skipIf(why)(`analyze --parquet writes its run under --name${why ?? ''}`, async () => {
    expect(analyzed?.code).toBe(ExitCode.ok);
    const r = await cli('sql', 'select run, vcpus, host_format from runs', '--data', DATA, '--csv');
    expect(r).toEqual({ code: ExitCode.ok, out: 'run,vcpus,host_format\none,4,trace-cmd-dat' });
  });

  it.skipIf(why)(`its running time per vCPU is analyze's${why ?? ''}`, async () => {
    const r = await cli(
      'sql',
      "select vcpu, sum(end_ns - start_ns) as t from vcpu_states where state = 'running' group by vcpu order by vcpu",
      '--data',
      DATA,
      '--json',
    );
    const rows = JSON.parse(r.out) as { vcpu: number; t: string }[];
    expect(rows.map((x) => x.vcpu)).toEqual(report!.vcpuTime.map((v) => v.vcpu));
    for (const v of report!.vcpuTime) {
      const t = Number(rows.find((x) => x.vcpu === v.vcpu)!.t);
      expect(Math.abs(t - v.running), `vCPU ${v.vcpu}`).toBeLessThanOrEqual(1);
    }
    const f = await cli('sql', 'select count(*) as n from findings', '--data', DATA, '--json');
    expect(JSON.parse(f.out)).toEqual([{ n: String(report!.findings.length) }]);
  });

  it.skipIf(why)(
    `prints a table with a header and a row count by default${why ?? ''}`,
    async () => {
      const r = await cli(
        'sql',
        "select run, count(*) as n from vcpu_states where state = 'running' group by run",
        '--data',
        DATA,
      );
      expect(r.code).toBe(ExitCode.ok);
      const lines = r.out.split('\n');
      expect(lines[0]).toMatch(/^run\s+n$/);
      expect(lines[1]).toMatch(/^-+\s+-+$/);
      expect(lines[2]).toMatch(/^one\s+\d+$/);
      expect(lines[3]).toBe('(1 rows)');
    },
  );

  it.skipIf(why)(`a bad query is a usage error with DuckDB's reason${why ?? ''}`, async () => {
    const r = await cli('sql', 'select nope from runs', '--data', DATA);
    expect(r.code).toBe(ExitCode.usage);
    expect(stderr.join('')).toMatch(/vcpu-lens sql: .*nope/);
  });

  it.skipIf(why)(`an empty dataset has every table, with no rows${why ?? ''}`, async () => {
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    const r = await cli(
      'sql',
      'select (select count(*) from runs) + (select count(*) from vcpu_states) + (select count(*) from stalls) + (select count(*) from findings) + (select count(*) from preemptors) as n',
      '--data',
      empty,
      '--csv',
    );
    expect(r).toEqual({ code: ExitCode.ok, out: 'n\n0' });
  });

  it(`--name without --parquet is a usage error`, async () => {
    const r = await cli('analyze', 'h', 'g', '--name', 'x');
    expect(r.code).toBe(ExitCode.usage);
    expect(stderr.join('')).toContain('--name names the run of --parquet DIR');
  });
});

describe("a pair folder's traces", () => {
  it('are the .dat when there is one, else the shortest host.* / guest.* name', () => {
    const d = path.join(tmp, 'pick');
    mkdirSync(d);
    for (const f of [
      'host.perf-sched.txt.gz',
      'host.txt.gz',
      'guest.gz',
      'guest.dat',
      'notes.txt',
    ])
      writeFileSync(path.join(d, f), '');
    mkdirSync(path.join(d, 'host.d'));
    expect(pairFile(d, 'host')).toBe(path.join(d, 'host.txt.gz'));
    expect(pairFile(d, 'guest')).toBe(path.join(d, 'guest.dat'));
    rmSync(path.join(d, 'host.txt.gz'));
    expect(pairFile(d, 'host')).toBe(path.join(d, 'host.perf-sched.txt.gz'));
  });
});
