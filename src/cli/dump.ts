// `vcpu-lens dump FILE`: any trace vCPU Lens reads, printed as `trace-cmd report` (3.1) text.

import { writeTraceCmdText } from '../core/export/trace-cmd-text';
import { CliReadOptions, loadTraces } from './progress';
import type { LoadResult } from '../core/io/read-trace-file';
import { ExitCode } from './exit-codes';
import { formatDiag } from './info';
import { log } from './terminal';

export async function dumpCommand(
  file: string,
  read: CliReadOptions,
  write: (s: string) => void,
): Promise<ExitCode> {
  // TSC ticks as recorded: a guest's TIME_SHIFT is applied to them before trace-cmd's conversion.
  const [r] = (await loadTraces([file], { ...read, recordedTicks: true })) as [LoadResult];
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
