// `vcpu-lens tasks FILE`: time per state for each thread and busy time per CPU, from the timelines.

import type { LoadResult } from '../../core/io/read-trace-file';
import { CliReadOptions, loadTraces } from '../progress';
import type { TasksReport } from '../../core/report/tasks';
import { ExitCode } from '../exit-codes';
import { formatDiag, log, safeName } from '../terminal';
import { defineCommand, usageError } from '../command';
import { JSON_OPTION, READ_OPTIONS, readOptions } from '../shared-options';
import { formatClockDuration, TSC_RATE_HINT } from '../../core/model/time';

export const tasks = defineCommand({
  name: 'tasks',
  summary:
    "Time each thread spent running, runnable, preempted, sleeping and in D, and each CPU's busy time.",
  usage: 'FILE [--json] [--top N] [--match REGEX]',
  details:
    "From the sched_switch / wakeup timelines, e.g. --match 'CPU .*/(KVM|TCG)' for the vCPU threads.",
  options: {
    ...JSON_OPTION,
    top: {
      type: 'string',
      arg: 'N',
      default: '20',
      help: 'show the N threads that ran longest (default 20)',
    },
    match: { type: 'string', arg: 'REGEX', help: 'only threads whose comm matches' },
    ...READ_OPTIONS,
  },
  run(v, files, io) {
    const read = readOptions(v);
    if (typeof read === 'string') return usageError('tasks', read);
    if (files.length !== 1) return usageError('tasks', 'give exactly one trace file');
    const top = Number(v.top);
    if (!Number.isInteger(top) || top < 1)
      return usageError('tasks', `--top wants a positive whole number, got '${v.top}'`);
    let match: RegExp | undefined;
    try {
      match = v.match !== undefined ? new RegExp(v.match) : undefined;
    } catch (e) {
      return usageError('tasks', `--match: ${(e as Error).message}`);
    }
    return tasksCommand(
      files[0]!,
      { json: v.json, top, read, ...(match ? { match } : {}) },
      io.out,
    );
  },
});

export interface TasksOptions {
  json: boolean;
  top: number;
  match?: RegExp;
  read: CliReadOptions;
}

export async function tasksCommand(
  file: string,
  o: TasksOptions,
  out: (s: string) => void,
): Promise<ExitCode> {
  // The timelines behind the report are tasks' alone: loaded while the file is read.
  const report = import('../../core/report/tasks');
  const [r] = (await loadTraces([file], o.read)) as [LoadResult];
  const { tasksReport } = await report;
  for (const d of r.diagnostics) log(formatDiag(d));
  if (r.traces.length === 0) return ExitCode.noInput;
  const reports = r.traces.map((t) => {
    const rep = tasksReport(t);
    if (o.match !== undefined) rep.threads = rep.threads.filter((th) => o.match!.test(th.comm));
    rep.threads = rep.threads.slice(0, o.top);
    return rep;
  });
  if (o.json) out(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
  else for (const rep of reports) out(formatTasks(rep));
  return r.traces.some((t) => t.diagnostics.some((d) => d.severity === 'error'))
    ? ExitCode.inputErrors
    : ExitCode.ok;
}

/** A time in the table: `6.245 ms`, or `13,997,267 ticks` for a counting clock; `-` for none. */
function fmt(v: number | undefined, rep: TasksReport): string {
  if (v === undefined || v === 0) return '-';
  return formatClockDuration(v, rep.unit);
}

const STATES = ['running', 'runnable', 'preempted', 'sleeping', 'uninterruptible'] as const;

export function formatTasks(rep: TasksReport): string {
  const pct = (v: number): string => (rep.span > 0 ? `${((100 * v) / rep.span).toFixed(1)}%` : '-');
  const lines = [`${safeName(rep.name, 200)}: span ${fmt(rep.span, rep)}`];
  if (rep.unit === 'count') lines.push(`  note: ${TSC_RATE_HINT}`);
  if (rep.eventsWithoutCpu !== undefined)
    lines.push(
      `  cpu   (none: ${rep.eventsWithoutCpu} events printed no CPU, so per-CPU times are not known)`,
    );
  else lines.push('  cpu   busy      switches');
  for (const c of rep.cpus)
    lines.push(
      `  ${String(c.cpu).padStart(3)}   ${pct(c.busy).padStart(6)}  ${String(c.switches).padStart(9)}`,
    );
  // Columns as wide as their widest time (ticks with separators run longer than `6.245 ms`).
  const width = Math.max(
    11,
    ...rep.threads.flatMap((t) => STATES.map((s) => fmt(t.time[s], rep).length + 2)),
  );
  lines.push(
    `  ${'pid'.padStart(7)}  ${'comm'.padEnd(16)} ${['running', 'runnable', 'preempted', 'sleeping', 'D'].map((h) => h.padStart(width)).join('')}  preempts`,
  );
  for (const t of rep.threads) {
    const cols = STATES.map((s) => fmt(t.time[s], rep).padStart(width)).join('');
    lines.push(
      `  ${String(t.pid).padStart(7)}  ${safeName(t.comm).padEnd(16)} ${cols}  ${String(t.preemptions).padStart(8)}`,
    );
  }
  if (rep.inconsistencies > 0)
    lines.push(
      `  (${rep.inconsistencies} times a task showed up on a CPU with no sched_switch to it (switch events missing); those gaps count as unknown)`,
    );
  return lines.join('\n');
}
