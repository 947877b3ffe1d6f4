// `vcpu-lens tasks FILE`: time per state for each thread and busy time per CPU, from the timelines.

import type { LoadResult } from '../core/io/read-trace-file';
import { CliReadOptions, loadTraces } from './progress';
import { tasksReport, TasksReport } from '../core/report/tasks';
import { ExitCode } from './exit-codes';
import { formatDiag } from './info';
import { log, safeName } from './terminal';

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
  const [r] = (await loadTraces([file], o.read)) as [LoadResult];
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

function fmt(v: number | undefined, rep: TasksReport): string {
  if (v === undefined || v === 0) return '-';
  return rep.unit === 'ns' ? `${(v / 1e6).toFixed(3)}` : `${(v / 1e6).toFixed(3)}M`;
}

export function formatTasks(rep: TasksReport): string {
  const unit = rep.unit === 'ns' ? 'ms' : 'Mticks';
  const pct = (v: number): string => (rep.span > 0 ? `${((100 * v) / rep.span).toFixed(1)}%` : '-');
  const lines = [`${safeName(rep.name, 200)}: span ${fmt(rep.span, rep)} ${unit}`];
  if (rep.eventsWithoutCpu !== undefined)
    lines.push(
      `  cpu   (none: ${rep.eventsWithoutCpu} events printed no CPU, so per-CPU times are not known)`,
    );
  else lines.push('  cpu   busy      switches');
  for (const c of rep.cpus)
    lines.push(
      `  ${String(c.cpu).padStart(3)}   ${pct(c.busy).padStart(6)}  ${String(c.switches).padStart(9)}`,
    );
  lines.push(
    `  ${'pid'.padStart(7)}  ${'comm'.padEnd(16)} ${['running', 'runnable', 'preempted', 'sleeping', 'D'].map((h) => h.padStart(11)).join('')}  preempts`,
  );
  for (const t of rep.threads) {
    const cols = ['running', 'runnable', 'preempted', 'sleeping', 'uninterruptible']
      .map((s) => fmt(t.time[s], rep).padStart(11))
      .join('');
    lines.push(
      `  ${String(t.pid).padStart(7)}  ${safeName(t.comm).padEnd(16)} ${cols}  ${String(t.preemptions).padStart(8)}`,
    );
  }
  lines.push(
    `  (times in ${unit}${rep.inconsistencies > 0 ? `; ${rep.inconsistencies} times a task showed up on a CPU with no sched_switch to it (switch events missing); those gaps count as unknown` : ''})`,
  );
  return lines.join('\n');
}
