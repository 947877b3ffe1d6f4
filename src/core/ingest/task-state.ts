// sched_switch's prev_state printed as a number (trace-cmd report -R, `[FAILED TO PARSE]` raw
// fields: `prev_state=64`) turned into the letters trace-cmd prints for it. libtraceevent's
// sched_switch plugin (plugins/plugin_sched_switch.c, write_state) prints, for each set bit i
// below the length of a letter table, that table's letter i, joined by `|`, and `R` when none
// is set; its table is the one in the kernel's print fmt of prev_state (`__print_flags`), which
// changed with the kernel:
//   Linux >= 4.14 (TASK_REPORT): S D T t X Z P I, and 0x100 (TASK_REPORT_MAX) for a preempted
//     task, a bit past the table, so `R`. This is also libtraceevent's table when it has no
//     format to read.
//   Linux 3.x - 4.13: S D T t Z X x K W P (N from 4.2), and TASK_STATE_MAX (0x400, 0x800 or
//     0x1000 by version) for a preempted task.
// Text carries no print fmt, so the table is chosen from the numbers themselves: >= 4.14 prints
// one bit at most, and none above 0x100; a value with two bits or one above 0x100 is an older
// kernel's. The values of a whole file decide (resolveRawStates), so a file reads one way.

import { Kind, TASK_BITS, TASK_MASK } from '../model/event-kinds';
import { StringTable } from '../model/string-table';
import type { Trace } from '../model/trace';

const REPORT_LETTERS = 'SDTtXZPI';
const OLD_LETTERS = 'SDTtZXxKWP';
/** TASK_NOLOAD on 4.2 - 4.13 (only ever with D: TASK_IDLE); TASK_STATE_MAX alone on 3.x. */
const OLD_NOLOAD = 0x400;

/**
 * True when s is a prev_state printed as a number: decimal, or hex where trace-cmd -R prints
 * the field as a long (`prev_state=0x40`, trace-cmd 3.3 on a 32-bit trace).
 */
export function isRawState(s: string): boolean {
  return /^(?:\d{1,10}|0x[0-9a-f]{1,8})$/i.test(s);
}

/** True when `v` cannot come from a kernel >= 4.14 (two bits set, or one above 0x100). */
function provesOldKernel(v: number): boolean {
  return v > 0x100 || (v & (v - 1)) !== 0;
}

/** The letters trace-cmd prints for `v` under the table the file's values point to. */
export function stateLetters(v: number, oldKernel: boolean): string {
  const table = oldKernel ? OLD_LETTERS : REPORT_LETTERS;
  const out: string[] = [];
  for (let i = 0; i < table.length; i++) if ((v & (1 << i)) !== 0) out.push(table[i]!);
  if (oldKernel && (v & OLD_NOLOAD) !== 0 && (v & (OLD_NOLOAD - 1)) !== 0) out.push('N');
  return out.length === 0 ? 'R' : out.join('|');
}

/** True when some of t's task states are still numbers (a part of a file, before the join). */
export function hasRawStates(t: Trace): boolean {
  for (let id = 0; id < t.states.size; id++) if (isRawState(t.states.get(id))) return true;
  return false;
}

/**
 * Rewrites the numeric prev_states a text importer kept as printed (`64`) into trace-cmd's
 * letters, one table for the whole trace (see above), renumbering the state ids in its
 * sched_switch events. Does nothing when every state was printed as letters. Called once the
 * trace is whole: by the importer's finish, or after the parts of a file read in parallel are
 * joined (parts keep the numbers: one part alone may not show which kernel wrote the file).
 */
export function resolveRawStates(t: Trace): void {
  const n = t.states.size;
  let raw = false;
  let oldKernel = false;
  for (let id = 0; id < n; id++) {
    const s = t.states.get(id);
    if (!isRawState(s)) continue;
    raw = true;
    if (provesOldKernel(Number(s))) oldKernel = true;
  }
  if (!raw) return;
  const table = new StringTable();
  const map = new Int32Array(n);
  for (let id = 0; id < n; id++) {
    const s = t.states.get(id);
    map[id] = table.intern(isRawState(s) ? stateLetters(Number(s), oldKernel) : s);
  }
  const switches = new Uint8Array(t.eventTypes.length);
  t.eventTypes.forEach((e, id) => {
    if (e.kind === Kind.schedSwitch) switches[id] = 1;
  });
  t.events.forEachBlock((b, count) => {
    const type = b.type;
    const a0 = b.a0;
    for (let i = 0; i < count; i++) {
      if (switches[type[i]!] !== 1) continue;
      const v = a0[i]!;
      a0[i] = (v & TASK_MASK) | (map[v >>> TASK_BITS]! << TASK_BITS);
    }
  });
  t.states = table;
}
