// Entry points for reading text traces whatever their format: sniff, then stream into the importer.

import type { ImportOptions, TextImporter } from './importer';
import { sniffText } from './detect';
import { textFormat, TextFormatId } from './formats';
import type { Trace } from '../model/trace';

export type { ImportOptions, ResumeState, TextImporter, TextOnlyKind } from './importer';
export { sniffBytes, sniffText } from './detect';
export type { FileFormatId, TextFormatId } from './formats';

export function createTextImporter(format: TextFormatId, opts: ImportOptions): TextImporter {
  return textFormat(format).importer(opts);
}

/** Sniffs and imports a whole text; undefined when it is no format we read. */
export function importText(text: string, opts: ImportOptions = {}): Trace[] | undefined {
  const f = sniffText(text.slice(0, 64 * 1024));
  if (f === 'unknown') return undefined;
  const imp = createTextImporter(f, opts);
  imp.feed(text);
  return imp.end();
}
