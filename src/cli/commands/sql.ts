// `vcpu-lens sql "QUERY" --data DIR`: a query over a fleet dataset (docs/fleet.md) with embedded
// DuckDB, each table registered as a view by its name.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineCommand, usageError } from '../command';
import { ExitCode } from '../exit-codes';
import { log, safeName } from '../terminal';

export const sql = defineCommand({
  name: 'sql',
  summary: 'A SQL query over a fleet dataset (runs, vcpu_states, stalls, findings, preemptors).',
  usage: '"QUERY" --data DIR [--json | --csv]',
  details:
    'Runs QUERY with embedded DuckDB over the Parquet dataset `vcpu-lens fleet` (or analyze\n' +
    '--parquet) wrote in DIR; its tables are views by name (docs/fleet.md lists their columns).\n' +
    'Prints a table, or with --json an array of row objects (64-bit integers as strings beyond\n' +
    '2^53), or with --csv CSV with a header.',
  options: {
    data: { type: 'string', arg: 'DIR', help: 'the dataset folder' },
    json: { type: 'boolean', default: false, help: 'print the rows as a JSON array of objects' },
    csv: { type: 'boolean', default: false, help: 'print the rows as CSV (with a header)' },
  },
  async run(v, args, io) {
    if (v.data === undefined) return usageError('sql', 'give --data DIR');
    if (args.length !== 1) return usageError('sql', 'give the query as one argument (quote it)');
    if (v.json && v.csv) return usageError('sql', 'give --json or --csv, not both');
    const query = args[0]!;
    const { connect, registerViews } = await import('../fleet/dataset');
    let conn;
    try {
      conn = await connect();
    } catch (e) {
      log(`vcpu-lens sql: ${(e as Error).message}`);
      return ExitCode.internal;
    }
    try {
      await registerViews(conn, path.resolve(v.data));
      if (v.csv) {
        // DuckDB writes the CSV (quoting, escapes); it comes back through `out`, escaped there.
        const dir = mkdtempSync(path.join(tmpdir(), 'vcpu-lens-sql-'));
        try {
          const f = path.join(dir, 'out.csv');
          await conn.run(`COPY (${query}) TO '${f}' (FORMAT CSV, HEADER)`);
          io.out(readFileSync(f, 'utf8').replace(/\n$/, ''));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        return ExitCode.ok;
      }
      const r = await conn.runAndReadAll(query);
      if (v.json) {
        io.out(JSON.stringify(r.getRowObjectsJson(), null, 2));
        return ExitCode.ok;
      }
      io.out(formatTable(r.columnNames(), r.getRowsJS()));
      return ExitCode.ok;
    } catch (e) {
      log(`vcpu-lens sql: ${(e as Error).message}`);
      return ExitCode.usage;
    } finally {
      conn.closeSync();
    }
  },
});

/** Rows as aligned columns: numbers to the right, text cut at 60 characters. */
function formatTable(names: string[], rows: unknown[][]): string {
  const cell = (x: unknown): string =>
    x === null || x === undefined
      ? 'NULL'
      : x instanceof Date
        ? x.toISOString()
        : safeName(String(x), 60);
  const cells = rows.map((r) => r.map(cell));
  const width = names.map((n, k) => Math.max(n.length, ...cells.map((r) => r[k]!.length)));
  const right = names.map(
    (_, k) =>
      rows.length > 0 && rows.every((r) => typeof r[k] === 'number' || typeof r[k] === 'bigint'),
  );
  const line = (r: string[]): string =>
    r
      .map((c, k) => (right[k] ? c.padStart(width[k]!) : c.padEnd(width[k]!)))
      .join('  ')
      .trimEnd();
  return [
    line(names),
    line(width.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    `(${rows.length} rows)`,
  ].join('\n');
}
