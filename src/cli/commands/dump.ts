// `vcpu-lens dump FILE`: any trace vCPU Lens reads, printed as `trace-cmd report` (3.1) text.

import { CliReadOptions, loadTraces } from '../progress';
import type { LoadResult } from '../../core/io/read-trace-file';
import { ExitCode } from '../exit-codes';
import { formatDiag, log } from '../terminal';
import { defineCommand, usageError } from '../command';
import { READ_OPTIONS, readOptions } from '../shared-options';

export const dump = defineCommand({
  name: 'dump',
  summary: 'The trace as trace-cmd report (3.1) text on stdout (diagnostics on stderr).',
  usage: 'FILE',
  details:
    'Converts tracefs and perf text and .dat files, and gives back trace-cmd text unchanged. To a\n' +
    'terminal, control and bidi characters in names are shown as \\uXXXX escapes; to a file or\n' +
    'pipe, as they are.',
  options: { ...READ_OPTIONS },
  run(v, files, io) {
    const read = readOptions(v);
    if (typeof read === 'string') return usageError('dump', read);
    if (files.length !== 1) return usageError('dump', 'give exactly one trace file');
    // Raw text in chunks, so not `out`, which adds a newline per call.
    return dumpCommand(files[0]!, read, io.write);
  },
});

export async function dumpCommand(
  file: string,
  read: CliReadOptions,
  write: (s: string) => void,
): Promise<ExitCode> {
  // TSC ticks as recorded: a guest's TIME_SHIFT is applied to them before trace-cmd's conversion.
  // The same for --tsc-hz: dump prints what trace-cmd report prints for the file, the ticks.
  if (read.tscHz !== undefined)
    log(
      'vcpu-lens dump: timestamps are printed as recorded (as trace-cmd report does); --tsc-hz is not applied',
    );
  // The text writer is dump's alone: loaded while the file is read, not with the CLI.
  const writer = import('../../core/export/trace-cmd-text');
  const [r] = (await loadTraces([file], { ...read, recordedTicks: true })) as [LoadResult];
  const { writeTraceCmdText } = await writer;
  for (const d of r.diagnostics) log(formatDiag(d));
  if (r.traces.length === 0) return ExitCode.noInput;
  let errors = false;
  for (const t of r.traces) {
    for (const d of t.diagnostics) {
      if (d.severity === 'error') errors = true;
      log(formatDiag(d));
    }
    writeTraceCmdText(t, write);
  }
  return errors ? ExitCode.inputErrors : ExitCode.ok;
}
