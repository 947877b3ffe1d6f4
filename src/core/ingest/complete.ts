// What a text trace needs once it is whole (after its last line, or after the parts of a file
// read in parallel are joined): numeric task states turned into letters, and events put in
// time order when the file was not. Parts leave both to the joiner (ImportOptions.partOfFile).

import type { Trace } from '../model/trace';
import { resolveRawStates } from './task-state';

/** Settles what only the whole trace can: see the file comment. */
export function completeTrace(t: Trace): void {
  resolveRawStates(t);
  sortByTime(t);
}

/**
 * Puts the events of a file that is not in time order (VL1005 said where it first went back)
 * in that order, with their line numbers: every reader of a trace may then assume it.
 */
function sortByTime(t: Trace): void {
  const sorted = t.events.sortedByTime();
  if (sorted === undefined) return;
  t.events = sorted.store;
  if (t.eventLines !== undefined) {
    const lines = new Int32Array(sorted.order.length);
    for (let k = 0; k < lines.length; k++) lines[k] = t.eventLines[sorted.order[k]!]!;
    t.eventLines = lines;
  }
}
