// Entry points for reading text traces whatever their format: sniff, then stream into the importer.

import { createFtraceTextImporter } from './ftrace-text';
import type { ImportOptions, TextImporter } from './importer';
import { createPerfScriptImporter } from './perf-script';
import { sniffText } from './detect';
import type { Trace } from '../model/trace';

export type { ImportOptions, ResumeState, TextImporter } from './importer';
export { sniffBytes, sniffText } from './detect';

export function createTextImporter(
  format: 'ftrace-text' | 'perf-script',
  opts: ImportOptions,
): TextImporter {
  return format === 'perf-script' ? createPerfScriptImporter(opts) : createFtraceTextImporter(opts);
}

/** Sniffs and imports a whole text; undefined when it is no format we read. */
export function importText(text: string, opts: ImportOptions = {}): Trace[] | undefined {
  const f = sniffText(text.slice(0, 64 * 1024));
  if (f === 'unknown') return undefined;
  const imp = createTextImporter(f, opts);
  imp.feed(text);
  return imp.end();
}
