// `vcpu-lens fleet --out DIR PAIR...`: many host + guest pairs analysed in parallel into one
// Parquet dataset partitioned by run (docs/fleet.md), which `vcpu-lens sql` (or Spark, Trino,
// DuckDB) queries.

import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { defineCommand, usageError } from '../command';
import { ExitCode } from '../exit-codes';
import type { PairJob, PairOutcome } from '../fleet/run-pair';
import { log, safeText } from '../terminal';
import { formatCount, formatDuration } from '../../core/model/time';
import { READ_OPTIONS, readOptions } from '../shared-options';
import { pairFile } from '../../core/io/pair-folder';

export const fleet = defineCommand({
  name: 'fleet',
  summary: 'Many host + guest pairs analysed in parallel into one Parquet dataset (docs/fleet.md).',
  usage:
    '--out DIR PAIR_DIR... | --out DIR --pair HOST GUEST [HOST GUEST...] [--name NAME] [--workers N]',
  details:
    'Each PAIR_DIR holds one host and one guest trace (host.* and guest.*, any format vcpu-lens\n' +
    'reads; a .dat first when there are several); the run is named after the folder (--name for a\n' +
    'single pair). With --pair the arguments are HOST GUEST files, two by two, each run named after\n' +
    "its host file's folder. Pairs run on a pool of worker processes (one per core), each pair\n" +
    'under its share of --memory-cap; a pair that fails is reported with its reason and the others\n' +
    'go on. DIR/<table>/run=<name>/part-0.parquet is written atomically per run; a run whose inputs\n' +
    '(size, mtime, first MiB) and options did not change is skipped. Query it with vcpu-lens sql.',
  options: {
    out: {
      type: 'string',
      arg: 'DIR',
      help: 'the dataset folder (created; runs in it are updated)',
    },
    pair: {
      type: 'boolean',
      default: false,
      help: 'the arguments are HOST GUEST trace files, two by two, not folders',
    },
    name: {
      type: 'string',
      arg: 'NAME',
      help: 'the run name of a single pair (default: its folder)',
    },
    workers: {
      type: 'string',
      arg: 'N',
      help: 'pairs analysed at once (default: the cores, at most the pairs)',
    },
    ...READ_OPTIONS,
  },
  async run(v, args) {
    // The fleet's code (the pair analysis, the dataset, the pool) loads only when fleet runs.
    const [
      { isCurrent, isRunName, loadDuckDb, recoverDataset, removeRun, toRunName },
      { runPool },
      { jobFingerprint },
    ] = await Promise.all([
      import('../fleet/dataset'),
      import('../fleet/pool'),
      import('../fleet/run-pair'),
    ]);
    const read = readOptions(v);
    if (typeof read === 'string') return usageError('fleet', read);
    if (v.out === undefined) return usageError('fleet', 'give --out DIR');
    const workers = v.workers !== undefined ? Number(v.workers) : availableParallelism();
    if (!Number.isInteger(workers) || workers < 1)
      return usageError('fleet', `--workers wants a whole number >= 1, got '${v.workers}'`);
    const pairs: { host: string; guest: string; folder: string }[] = [];
    if (v.pair) {
      if (args.length === 0 || args.length % 2 !== 0)
        return usageError('fleet', '--pair takes HOST GUEST files, two by two');
      for (let k = 0; k < args.length; k += 2)
        pairs.push({
          host: args[k]!,
          guest: args[k + 1]!,
          folder: path.dirname(path.resolve(args[k]!)),
        });
    } else {
      if (args.length === 0)
        return usageError('fleet', 'give one or more PAIR_DIR (or --pair HOST GUEST)');
      for (const d of args) {
        if (!existsSync(d) || !statSync(d).isDirectory())
          return usageError(
            'fleet',
            `${safeText(d)} is not a folder (give --pair for trace files)`,
          );
        const host = pairFile(d, 'host');
        const guest = pairFile(d, 'guest');
        if (host === undefined || guest === undefined)
          return usageError(
            'fleet',
            `${safeText(d)} has no ${host === undefined ? 'host.*' : 'guest.*'} trace`,
          );
        pairs.push({ host, guest, folder: path.resolve(d) });
      }
    }
    if (v.name !== undefined && pairs.length !== 1)
      return usageError('fleet', '--name names a single pair');
    if (v.name !== undefined && !isRunName(v.name))
      return usageError(
        'fleet',
        `--name: '${safeText(v.name)}' is not a run name (letters, digits, . _ + -)`,
      );
    const { bar: _bar, memoryCapBytes, ...rest } = read;
    const n = Math.min(workers, pairs.length);
    // Each pair in flight gets its share of the cap.
    const perPair = memoryCapBytes !== undefined ? Math.floor(memoryCapBytes / n) : undefined;
    const jobs: PairJob[] = pairs.map((p) => ({
      name: v.name ?? toRunName(path.basename(p.folder)),
      host: path.resolve(p.host),
      guest: path.resolve(p.guest),
      out: path.resolve(v.out!),
      read: {
        ...rest,
        threads: rest.threads ?? 1,
        ...(perPair !== undefined ? { memoryCapBytes: perPair } : {}),
      },
      pair: {},
    }));
    const seen = new Set<string>();
    for (const j of jobs) {
      if (seen.has(j.name))
        return usageError(
          'fleet',
          `two pairs would be run '${safeText(j.name)}': give them folders of different names`,
        );
      seen.add(j.name);
    }
    try {
      await loadDuckDb();
    } catch (e) {
      log(`vcpu-lens fleet: ${(e as Error).message}`);
      return ExitCode.internal;
    }
    const out = jobs[0]!.out;
    recoverDataset(out);
    const todo: PairJob[] = [];
    let skipped = 0;
    for (const j of jobs) {
      let fp: string;
      try {
        fp = jobFingerprint(j);
      } catch (e) {
        todo.push(j); // unreadable: the pair itself reports it
        void e;
        continue;
      }
      if (isCurrent(out, j.name, fp)) skipped++;
      else todo.push(j);
    }
    const progress = new FleetProgress(jobs.length, skipped, v.progress);
    const outcomes = await runPool(
      todo,
      n,
      (j) => progress.start(j.name),
      (o) => {
        // A run that failed no longer describes its inputs (they changed, or it never did).
        if (!o.ok) removeRun(out, o.name);
        progress.done(o);
      },
    );
    progress.finish();
    const failed = outcomes.filter((o) => !o.ok).length;
    log(
      `fleet: ${formatCount(outcomes.length - failed)} runs written, ${formatCount(skipped)} unchanged, ${formatCount(failed)} failed, in ${safeText(out)}`,
    );
    const warned = outcomes.some((o) => o.ok && o.warnings.length > 0);
    return failed > 0 || warned ? ExitCode.inputErrors : ExitCode.ok;
  },
});

/**
 * The fleet's progress on stderr: on a terminal one line redrawn (done/total, failed, running,
 * pairs a minute); a failure, and elsewhere every pair's end, on a line of its own.
 */
class FleetProgress {
  private readonly running = new Set<string>();
  private finished = 0;
  private failed = 0;
  private readonly t0 = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly skipped: number,
    mode: string,
  ) {
    this.tty = mode !== 'never' && process.stderr.isTTY === true;
  }

  start(name: string): void {
    this.running.add(name);
    this.draw();
  }

  done(o: PairOutcome): void {
    this.running.delete(o.name);
    this.finished++;
    const line = o.ok
      ? `fleet: ${safeText(o.name)} written (${formatCount(o.rows)} rows)${o.warnings.length > 0 ? `; ${o.warnings.join('; ')}` : ''}`
      : `fleet: ${safeText(o.name)} failed: ${safeText(o.reason)}`;
    if (!o.ok) this.failed++;
    if (!o.ok || !this.tty) this.print(line);
    this.draw();
  }

  private line(): string {
    const mins = (Date.now() - this.t0) / 60000;
    const rate = mins > 0 ? (this.finished / mins).toFixed(1) : '-';
    return (
      `fleet: ${this.finished + this.skipped}/${this.total} done (${this.skipped} unchanged, ${this.failed} failed), ` +
      `${this.running.size} running, ${rate} pairs/min, ${formatDuration((Date.now() - this.t0) * 1e6)}`
    );
  }

  private print(s: string): void {
    process.stderr.write(this.tty ? `\r\u001b[K${s}\n` : `${s}\n`);
  }

  private draw(): void {
    if (!this.tty) return;
    const cols = process.stderr.columns ?? 100;
    process.stderr.write(`\r${this.line().slice(0, cols - 1)}\u001b[K`);
  }

  finish(): void {
    if (this.tty) process.stderr.write('\r\u001b[K');
  }
}
