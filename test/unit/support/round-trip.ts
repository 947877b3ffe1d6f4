// A trace written as trace-cmd report text and read back by the text importer, as a user's file
// would be: the simulator tests check that what they write parses and analyses like real data.
import { writeTraceCmdText } from '../../../src/core/export/trace-cmd-text';
import { importText } from '../../../src/core/ingest/index';
import type { Trace } from '../../../src/core/model/trace';

export function traceCmdText(t: Trace): string {
  let out = '';
  writeTraceCmdText(t, (x) => (out += x));
  return out;
}

export function throughText(t: Trace, name: string): Trace {
  return importText(traceCmdText(t), { name })![0]!;
}
