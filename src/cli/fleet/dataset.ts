// The fleet dataset on disk: `DIR/<table>/run=<name>/part-0.parquet`, written by embedded DuckDB
// (COPY ... (FORMAT PARQUET)), one run at a time and atomically: a run's files are written under
// `DIR/.staging/`, renamed into place table by table with `runs` last, and only then is the run's
// state (`DIR/_state/<name>.json`: its inputs' fingerprint) written. A run without that state is
// not complete: its partitions are removed before anything else is done with the dataset, so a
// killed fleet leaves nothing half-written once it runs again. Spark and Trino skip `.`/`_` names.

import { createHash } from 'node:crypto';
import {
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  Cell,
  ColumnType,
  FLEET_SCHEMA,
  RunTables,
  TABLE_NAMES,
  TABLES,
  TableName,
} from './tables';

type DuckDb = typeof import('@duckdb/node-api');

let duck: Promise<DuckDb> | undefined;

/** DuckDB's Node binding, loaded on first use only (fleet, sql, analyze --parquet need it). */
export async function loadDuckDb(): Promise<DuckDb> {
  duck ??= import('@duckdb/node-api').catch((e: unknown) => {
    duck = undefined;
    throw new Error(
      `DuckDB's Node binding (@duckdb/node-api) cannot be loaded: ${(e as Error).message.split('\n')[0]}. ` +
        'fleet, sql and analyze --parquet need it (npm install @duckdb/node-api)',
    );
  });
  return duck;
}

/** An in-memory DuckDB connection (closed by the caller with closeSync). */
export async function connect(): Promise<DuckDBConnection> {
  const d = await loadDuckDb();
  const db = await d.DuckDBInstance.create(':memory:');
  return db.connect();
}

/** A run name is a path segment of every table: letters, digits and . _ + - (not first . or _). */
export function isRunName(name: string): boolean {
  return /^[A-Za-z0-9+-][A-Za-z0-9._+-]*$/.test(name) && name.length <= 200;
}

/** A name made a run name: other characters become `_`. */
export function toRunName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^[._]+/, '');
  return s === '' ? 'run' : s.slice(0, 200);
}

/** What a run was made from: each input's size, mtime and the SHA-256 of its first MiB, and the options. */
export function fingerprint(files: string[], options: unknown): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify({ schema: FLEET_SCHEMA, options }, (_k, v: unknown) =>
      typeof v === 'bigint'
        ? v.toString()
        : v instanceof Map
          ? [...v]
          : v instanceof RegExp
            ? String(v)
            : v,
    ),
  );
  const buf = Buffer.alloc(1 << 20);
  for (const f of files) {
    const st = statSync(f);
    const fd = openSync(f, 'r');
    try {
      const n = readSync(fd, buf, 0, buf.length, 0);
      h.update(`${st.size} ${st.mtimeMs}\n`);
      h.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex');
}

const stateFile = (dir: string, name: string): string => path.join(dir, '_state', `${name}.json`);
const partition = (dir: string, t: TableName, name: string): string =>
  path.join(dir, t, `run=${name}`);

/** Whether run `name` is complete in `dir` and was made from inputs with this fingerprint. */
export function isCurrent(dir: string, name: string, fp: string): boolean {
  try {
    const s = JSON.parse(readFileSync(stateFile(dir, name), 'utf8')) as { fingerprint?: string };
    return s.fingerprint === fp && existsSync(partition(dir, 'runs', name));
  } catch {
    return false;
  }
}

/**
 * Removes what an interrupted writer left: the staging folder and every partition of a run that
 * has no state (renamed in part when the writer stopped). Call it before writing runs, never while
 * another writer works on the same dataset.
 */
export function recoverDataset(dir: string): void {
  rmSync(path.join(dir, '.staging'), { recursive: true, force: true });
  const states = new Set(
    existsSync(path.join(dir, '_state'))
      ? readdirSync(path.join(dir, '_state'))
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -5))
      : [],
  );
  for (const t of TABLE_NAMES) {
    const td = path.join(dir, t);
    if (!existsSync(td)) continue;
    for (const p of readdirSync(td))
      if (p.startsWith('run=') && !states.has(p.slice(4)))
        rmSync(path.join(td, p), { recursive: true, force: true });
  }
}

/** Removes run `name` (its state first, so a crash in between leaves only an incomplete run). */
export function removeRun(dir: string, name: string): void {
  rmSync(stateFile(dir, name), { force: true });
  for (const t of TABLE_NAMES) rmSync(partition(dir, t, name), { recursive: true, force: true });
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Writes run `name`'s tables into `dir` atomically (see the file's head), replacing any old one. */
export async function writeRun(
  dir: string,
  name: string,
  tables: RunTables,
  fp: string,
  conn?: DuckDBConnection,
): Promise<void> {
  if (!isRunName(name)) throw new Error(`'${name}' is not a run name`);
  const c = conn ?? (await connect());
  const staging = path.join(dir, '.staging', `${name}.${process.pid}.${Date.now()}`);
  try {
    for (const t of TABLE_NAMES) {
      const cols = TABLES[t] as Record<string, ColumnType>;
      const names = Object.keys(cols);
      const tmp = `fleet_${t}`;
      await c.run(
        `CREATE OR REPLACE TABLE ${tmp} (${names.map((n) => `${n} ${cols[n]}`).join(', ')})`,
      );
      const app = await c.createAppender(tmp);
      const data = tables[t];
      const rows = data[0]?.length ?? 0;
      const d = await loadDuckDb();
      const types = names.map((n) => cols[n]!);
      for (let i = 0; i < rows; i++) {
        for (let k = 0; k < types.length; k++) appendCell(app, d, types[k]!, data[k]![i]!);
        app.endRow();
      }
      app.closeSync();
      const out = partition(staging, t, name);
      mkdirSync(out, { recursive: true });
      // Parquet 2 encodings: the time columns delta-encode; half the CPU to query (docs/fleet.md).
      await c.run(
        `COPY ${tmp} TO ${sqlString(path.join(out, 'part-0.parquet'))} (FORMAT PARQUET, COMPRESSION ZSTD, PARQUET_VERSION V2)`,
      );
      await c.run(`DROP TABLE ${tmp}`);
    }
    // Into place: the old run out first, then each table's partition, `runs` last, then the state.
    removeRun(dir, name);
    for (const t of [...TABLE_NAMES.filter((x) => x !== 'runs'), 'runs' as const]) {
      mkdirSync(path.join(dir, t), { recursive: true });
      renameSync(partition(staging, t, name), partition(dir, t, name));
    }
    mkdirSync(path.join(dir, '_state'), { recursive: true });
    const tmpState = `${stateFile(dir, name)}.${process.pid}.tmp`;
    writeFileSync(
      tmpState,
      JSON.stringify({ schema: FLEET_SCHEMA, run: name, fingerprint: fp }) + '\n',
    );
    renameSync(tmpState, stateFile(dir, name));
  } finally {
    rmSync(staging, { recursive: true, force: true });
    if (conn === undefined) c.closeSync();
  }
}

function appendCell(
  app: import('@duckdb/node-api').DuckDBAppender,
  d: DuckDb,
  type: ColumnType,
  v: Cell,
): void {
  if (v === null) return app.appendNull();
  switch (type) {
    case 'VARCHAR':
      return app.appendVarchar(String(v));
    case 'BIGINT':
      return app.appendBigInt(typeof v === 'bigint' ? v : BigInt(v as number));
    case 'INTEGER':
      return app.appendInteger(Number(v));
    case 'DOUBLE':
      return app.appendDouble(Number(v));
    case 'TIMESTAMP':
      return app.appendTimestamp(new d.DuckDBTimestampValue(BigInt((v as Date).getTime()) * 1000n));
  }
}

/**
 * Registers each table of the dataset in `dir` as a view named after it, `run` first (from the
 * partition path, always text), then the columns as docs/fleet.md lists them. A table with no run
 * yet is an empty view of the same columns.
 */
export async function registerViews(c: DuckDBConnection, dir: string): Promise<void> {
  for (const t of TABLE_NAMES) {
    const cols = TABLES[t] as Record<string, ColumnType>;
    const names = Object.keys(cols);
    const td = path.join(dir, t);
    const any =
      existsSync(td) &&
      readdirSync(td).some((p) => p.startsWith('run=') && readdirSync(path.join(td, p)).length > 0);
    const select = any
      ? `SELECT run, ${names.join(', ')} FROM read_parquet(${sqlString(path.join(td, 'run=*', '*.parquet'))}, hive_partitioning = true, hive_types = {'run': VARCHAR})`
      : `SELECT NULL::VARCHAR AS run, ${names.map((n) => `NULL::${cols[n]} AS ${n}`).join(', ')} WHERE false`;
    await c.run(`CREATE OR REPLACE VIEW ${t} AS ${select}`);
  }
}
