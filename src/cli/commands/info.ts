// `vcpu-lens info FILE...`: what a trace file holds, as text or as the stable JSON schema.

import type { LoadResult } from '../../core/io/read-trace-file';
import type { Diagnostic } from '../../core/model/diagnostics';
import { CliReadOptions, loadTraces } from '../progress';
import { formatClockDuration, formatCount, TSC_RATE_HINT } from '../../core/model/time';
import { INFO_SCHEMA, traceInfo, TraceInfo } from '../../core/report/info';
import { ExitCode } from '../exit-codes';
import { formatDiag, safeName, safeText } from '../terminal';
import { defineCommand, usageError } from '../command';
import { JSON_OPTION, READ_OPTIONS, readOptions } from '../shared-options';

export const info = defineCommand({
  name: 'info',
  summary:
    'What a trace holds: format, clock and unit, CPUs, time span, events per name, tasks, diagnostics.',
  usage: 'FILE... [--json] [--clock NAME] [--max-diagnostics N]',
  details:
    'FILE: trace-cmd report text, tracefs trace text or perf script text, optionally\n' +
    'gzip-compressed, or a trace-cmd .dat; the format is sniffed from the content.',
  options: { ...JSON_OPTION, ...READ_OPTIONS },
  run(v, files, io) {
    const read = readOptions(v);
    if (typeof read === 'string') return usageError('info', read);
    if (files.length === 0) return usageError('info', 'give at least one trace file');
    return infoCommand(files, { json: v.json, read }, io.out);
  },
});

export interface InfoOptions {
  json: boolean;
  read: CliReadOptions;
}

export interface FileInfo {
  schema: typeof INFO_SCHEMA;
  file: string;
  format: LoadResult['format'];
  compression: LoadResult['compression'];
  fileBytes: number;
  textBytes: number;
  traces: TraceInfo[];
  diagnostics: Diagnostic[];
}

export async function infoCommand(
  files: string[],
  o: InfoOptions,
  out: (s: string) => void,
): Promise<ExitCode> {
  let code: ExitCode = ExitCode.ok;
  const all: FileInfo[] = [];
  for (const file of files) {
    // info prints no event's text: a .dat's generic events are counted, not printed; and it
    // keeps no events: a .dat read on this thread is counted (ImportOptions.countOnly).
    const [r] = (await loadTraces([file], {
      ...o.read,
      eventText: false,
      countOnly: true,
    })) as [LoadResult];
    const info: FileInfo = {
      schema: INFO_SCHEMA,
      file,
      format: r.format,
      compression: r.compression,
      fileBytes: r.fileBytes,
      textBytes: r.textBytes,
      traces: r.traces.map(traceInfo),
      diagnostics: r.diagnostics,
    };
    if (r.traces.length === 0) code = ExitCode.noInput;
    else if (
      code === ExitCode.ok &&
      (r.diagnostics.some((d) => d.severity === 'error') ||
        info.traces.some((t) => t.diagnostics.errors > 0))
    )
      code = ExitCode.inputErrors;
    all.push(info);
    if (!o.json) out(formatInfo(info));
  }
  if (o.json) out(JSON.stringify(files.length === 1 ? all[0] : all, null, 2));
  return code;
}

export function formatInfo(f: FileInfo): string {
  const lines: string[] = [];
  lines.push(
    // An unknown file was read only as far as the sniffer looked: its size is the file's.
    `${safeText(f.file)}: ${f.format}${f.compression !== 'none' ? ` (${f.compression})` : ''}, ` +
      (f.format === 'unknown'
        ? `${formatCount(f.fileBytes)} bytes${f.compression !== 'none' ? ' on disk' : ''}`
        : `${formatCount(f.textBytes)} bytes${f.format === 'trace-cmd-dat' ? '' : ' of text'}`),
  );
  for (const d of f.diagnostics) lines.push(`  ${formatDiag(d)}`);
  for (const t of f.traces) {
    if (f.traces.length > 1) lines.push(`- ${safeName(t.name, 200)}`);
    const clk =
      `${t.clock.name}${t.clock.source === 'inferred' ? ` (not recorded in ${t.format === 'trace-cmd-dat' ? 'the file' : 'text'})` : ''}, unit ${t.clock.unit}` +
      (t.clock.tscHz !== undefined
        ? `, ticks read as ns at ${formatCount(t.clock.tscHz)} Hz (--tsc-hz)`
        : t.clock.unit === 'ns'
          ? `, printed to ${formatCount(t.clock.resolution)} ns`
          : '');
    lines.push(`  format     ${t.format}`);
    lines.push(`  clock      ${clk}`);
    const noCpu = t.header.eventsWithoutCpu;
    lines.push(
      `  cpus       ${t.cpus.count} (${t.cpus.source === 'header' ? 'from header' : 'from events'})` +
        (noCpu !== undefined
          ? `; ${formatCount(noCpu)} events printed no CPU: per-CPU views off`
          : ''),
    );
    if (t.span.first !== null) {
      lines.push(
        `  span       ${t.span.first} .. ${t.span.last} (${formatClockDuration(t.span.duration, t.clock.unit)})`,
      );
      if (t.clock.unit === 'count') lines.push(`             ${TSC_RATE_HINT}`);
    }
    lines.push(`  events     ${formatCount(t.events.total)}`);
    for (const [name, n] of Object.entries(t.events.byName))
      lines.push(`    ${formatCount(n).padStart(12)}  ${safeName(name, 200)}`);
    lines.push(
      `  tasks      ${formatCount(t.tasks.pids)} thread ids, ${formatCount(t.tasks.names)} (pid, comm) names`,
    );
    if (t.dat !== undefined) {
      const d = t.dat;
      lines.push(
        `  .dat       v${d.fileVersion}, ${d.compression}${d.uname !== undefined ? `, ${safeText(d.uname)}` : ''}${d.traceCmdVersion !== undefined ? `, trace-cmd ${safeText(d.traceCmdVersion)}` : ''}`,
      );
      for (const g of d.guests)
        lines.push(
          `  guest      ${safeText(g.name)}: ${g.vcpus.map((v) => `vCPU ${v.vcpu} = host task ${v.hostPid}`).join(', ')}`,
        );
      if (d.timeShift !== undefined)
        lines.push(
          `  time sync  TIME_SHIFT to host trace ${d.timeShift.peerTraceId}, ${d.timeShift.cpus.length} CPUs`,
        );
      if (d.tsc2nsec !== undefined)
        lines.push(
          `  tsc2nsec   mult ${d.tsc2nsec.mult}, shift ${d.tsc2nsec.shift}${d.tsc2nsec.applied ? ': TSC counts shown as ns' : ''}`,
        );
    }
    if (t.lostEvents !== 0)
      lines.push(
        `  lost       ${t.lostEvents < 0 ? 'some events (count unknown)' : formatCount(t.lostEvents) + ' events'}`,
      );
    const d = t.diagnostics;
    lines.push(`  diagnostics ${d.errors} errors, ${d.warnings} warnings, ${d.infos} infos`);
    for (const item of d.items.slice(0, 20)) lines.push(`    ${formatDiag(item)}`);
    if (d.items.length > 20) lines.push(`    ... ${d.items.length - 20} more (use --json for all)`);
  }
  return lines.join('\n');
}
