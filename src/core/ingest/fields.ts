// Decoders for the field text of the events vCPU Lens understands, shared by every text format.
// Two spellings exist for the scheduler events: the kernel's own print fmt (tracefs, perf):
//   prev_comm=CPU 0/TCG prev_pid=3315 prev_prio=120 prev_state=R+ ==> next_comm=swapper/0 next_pid=0 next_prio=120
// and trace-cmd's sched plugin (libtraceevent plugin_sched_switch.c):
//   CPU 0/TCG:3315 [120] R+ ==> swapper/0:0 [120]
//   rcu_preempt:15 [120] CPU:001
// Comms may contain spaces, colons, dashes and `=`, so every field is found from the right.
// The text is read in place: s[st, en) inside the chunk the line came in, no substring per event.

import { DIAG } from '../model/diagnostics';
import { Kind } from '../model/event-kinds';
import { PRIO_UNKNOWN } from '../model/task-table';
import { sameText, sameUnits, type TraceBuilder } from '../model/trace';
import { CodeUnits, preview } from './lines';
import { VMX_EXIT_REASONS } from './vmx-exit-reasons';

export interface Payload {
  a0: number;
  a1: number;
}

/** Parses a signed decimal integer in s[start, end); NaN if anything else is there. */
export function intIn(s: string, start: number, end: number): number {
  if (start >= end) return NaN;
  let i = start;
  let neg = false;
  if (s.charCodeAt(i) === 45 /* - */) {
    neg = true;
    i++;
    if (i === end) return NaN;
  }
  let v = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

/** intIn over code units (ingest/lines.ts LineHandler): the same answer for the same text. */
export function intInUnits(u: Uint16Array, start: number, end: number): number {
  if (start >= end) return NaN;
  let i = start;
  let neg = false;
  if (u[i] === 45 /* - */) {
    neg = true;
    i++;
    if (i === end) return NaN;
  }
  let v = 0;
  for (; i < end; i++) {
    const c = u[i]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

/** The end of the token starting at `from`: the next space, or `end`. */
function tokenEnd(s: string, from: number, end: number): number {
  const e = s.indexOf(' ', from);
  return e < 0 || e > end ? end : e;
}

/**
 * The field text as its own (sliced) string, made on first use and only for lastIndexOf:
 * searching the whole chunk would scan all 64 KiB back for an optional key that is absent
 * (`vruntime=` since Linux 6.8). Everything else reads the chunk in place. decodeFields points
 * these at the event being decoded.
 */
let viewSrc = '';
let viewStart = 0;
let viewEnd = 0;
let view: string | undefined;

/** lastIndexOf(key, before) within the current field text, as an index into the chunk; -1 if absent. */
function last(key: string, before: number, st: number): number {
  if (before < st) return -1;
  view ??= viewSrc.slice(viewStart, viewEnd);
  const at = view.lastIndexOf(key, before - viewStart);
  return at < 0 || at + viewStart < st ? -1 : at + viewStart;
}

/** The last `c` (a char code) in u[st, before], scanning back; -1 if absent. For nearby single characters. */
function lastChar(u: Uint16Array, c: number, before: number, st: number): number {
  for (let i = before; i >= st; i--) if (u[i] === c) return i;
  return -1;
}

/** Where `key` (with its leading space and `=`) starts, searched from the right, and its integer value. */
interface KeyInt {
  at: number;
  value: number;
}
function lastKeyInt(s: string, key: string, before: number, st: number, en: number): KeyInt {
  const at = last(key, before, st);
  if (at < 0) return { at, value: NaN };
  const vs = at + key.length;
  return { at, value: intIn(s, vs, tokenEnd(s, vs, en)) };
}

const ok = (n: number): boolean => !Number.isNaN(n);

/** The code units decodeFields reads when its caller has none (a `.dat` event's own text). */
const ownUnits = new CodeUnits();

/**
 * The one-pass readers below (and in ftrace-text.ts) answer the layouts nearly every line has,
 * and leave the rest to the general paths; where they answer, the answer must be the general
 * path's. Off, every line takes the general path: tests compare the two on mutated traces.
 */
export const fastPaths = { on: true };

/** The value intBefore read. */
let backValue = 0;

/**
 * Reads the decimal integer (digits, an optional `-` in front) that ends just before `end`,
 * scanning back no further than `st`: its start, with its value in backValue; -1 when no digit
 * ends there or it has more than 15. The fast paths below read a line's trailing fields this way,
 * each character once, instead of searching for each key and parsing its token after.
 */
function intBefore(u: Uint16Array, end: number, st: number): number {
  let i = end - 1;
  let v = 0;
  let mul = 1;
  while (i >= st) {
    const c = u[i]! - 48;
    if (c < 0 || c > 9) break;
    v += c * mul;
    mul *= 10;
    i--;
  }
  if (i === end - 1 || end - 1 - i > 15) return -1;
  if (i >= st && u[i] === 45 /* - */) {
    v = -v;
    i--;
  }
  backValue = v;
  return i + 1;
}

/** `comm:pid [prio]` (trace-cmd plugin spelling) in s[start, end) → task id, or -1. */
function prettyTask(
  b: TraceBuilder,
  u: Uint16Array,
  s: string,
  start: number,
  end: number,
): number {
  // end points just past ']'
  if (end <= start || u[end - 1] !== 93 /* ] */) return -1;
  const lb = lastChar(u, 91 /* [ */, end - 2, start + 1) - 1;
  if (lb < start || u[lb] !== 32) return -1;
  const prio = intInUnits(u, lb + 2, end - 1);
  const colon = lastChar(u, 58 /* : */, lb - 1, start);
  if (colon < 0) return -1;
  const pid = intInUnits(u, colon + 1, lb);
  if (!ok(pid) || !ok(prio)) return -1;
  return b.tasks.internUnits(pid, u, s, start, colon, prio);
}

/** ` ==> ` in s[st, before], scanning back from `before`; -1 if absent. */
function lastArrow(u: Uint16Array, before: number, st: number): number {
  for (
    let i = lastChar(u, 62 /* > */, before, st + 3);
    i >= st + 3;
    i = lastChar(u, 62, i - 1, st + 3)
  ) {
    if (u[i - 1] === 61 && u[i - 2] === 61 && u[i - 3] === 32 && u[i + 1] === 32) return i - 3;
  }
  return -1;
}

/**
 * `comm:pid [prio]` (trace-cmd plugin spelling) ending just before `end`, read from the right,
 * its comm starting at `start`: the task id, or -1 when the text is not in that shape (the caller
 * then asks prettyTask, whose answer this is wherever this one answers: the `[` and `:` found
 * here are the last ones, as prettyTask's searches find them, because only the digits of the
 * prio and pid lie after them).
 */
function prettyTaskFast(
  b: TraceBuilder,
  u: Uint16Array,
  s: string,
  start: number,
  end: number,
): number {
  if (end <= start || u[end - 1] !== 93 /* ] */) return -1;
  let a = intBefore(u, end - 1, start);
  // `[` and the space before it, at or after start + 1 (prettyTask's bound for the `[`).
  if (a < start + 3 || u[a - 1] !== 91 || u[a - 2] !== 32) return -1;
  const prio = backValue;
  a = intBefore(u, a - 2, start);
  if (a < start + 1 || u[a - 1] !== 58 /* : */) return -1;
  return b.tasks.internUnits(backValue, u, s, start, a - 1, prio);
}

/** prettyTask's answer, read in one pass when the text has the usual shape (prettyTaskFast). */
function prettyTaskAt(
  b: TraceBuilder,
  u: Uint16Array,
  s: string,
  start: number,
  end: number,
): number {
  const t = fastPaths.on ? prettyTaskFast(b, u, s, start, end) : -1;
  return t >= 0 ? t : prettyTask(b, u, s, start, end);
}

function decodeSwitch(
  b: TraceBuilder,
  u: Uint16Array,
  s: string,
  st: number,
  en: number,
  out: Payload,
): boolean {
  if (sameUnits('prev_comm=', u, st)) {
    const np = lastKeyInt(s, ' next_prio=', en, st, en);
    const npid = lastKeyInt(s, ' next_pid=', np.at, st, en);
    // The kernel's print fmt has ` ==> ` before next_comm; raw fields (trace-cmd report -R,
    // `[FAILED TO PARSE]`) do not, and print prev_state as the number it is.
    const arrow = last(' ==> next_comm=', npid.at, st);
    const ncomm = arrow >= 0 ? arrow : last(' next_comm=', npid.at, st);
    const ncommStart = arrow >= 0 ? arrow + 15 : ncomm + 11;
    if (np.at < 0 || npid.at < 0 || ncomm < 0) return false;
    const stAt = last(' prev_state=', ncomm, st);
    const pp = lastKeyInt(s, ' prev_prio=', stAt, st, en);
    const ppid = lastKeyInt(s, ' prev_pid=', pp.at, st, en);
    if (stAt < 0 || pp.at < 0 || ppid.at < 0) return false;
    if (!ok(np.value) || !ok(npid.value) || !ok(pp.value) || !ok(ppid.value)) return false;
    // Without the arrow nothing marks where the state ends but the key after it: one token.
    if (arrow < 0 && tokenEnd(s, stAt + 12, ncomm) !== ncomm) return false;
    const state = b.stateIdAt(u, s, stAt + 12, ncomm);
    if (state < 0) return false;
    const prev = b.tasks.internUnits(ppid.value, u, s, st + 10, ppid.at, pp.value);
    const next = b.tasks.internUnits(npid.value, u, s, ncommStart, npid.at, np.value);
    out.a0 = prev | (state << 22);
    out.a1 = next;
    return true;
  }
  const arrow = lastArrow(u, en - 2, st);
  if (arrow < 0) return false;
  const next = prettyTaskAt(b, u, s, arrow + 5, en);
  const rb = lastChar(u, 93 /* ] */, arrow - 2, st);
  if (next < 0 || rb < 0 || u[rb + 1] !== 32) return false;
  const state = b.stateIdAt(u, s, rb + 2, arrow);
  if (state < 0) return false;
  const prev = prettyTaskAt(b, u, s, st, rb + 1);
  if (prev < 0) return false;
  out.a0 = prev | (state << 22);
  out.a1 = next;
  return true;
}

/**
 * `comm=A pid=N prio=P target_cpu=C`, the layout of every kernel since 4.15, read from the right
 * one character at a time; false for anything else, which decodeWakeup's general path then
 * reads. Where it answers, the answer is the general path's: each key found here is the last one
 * in the text, as the general path's search finds it, because only the digits of the value
 * after it follow (no space, so no later key can start there).
 */
function wakeupKeysFast(
  b: TraceBuilder,
  u: Uint16Array,
  s: string,
  st: number,
  en: number,
  out: Payload,
): boolean {
  let a = intBefore(u, en, st);
  if (a < st + 12 || !sameUnits(' target_cpu=', u, a - 12)) return false;
  const target = backValue;
  a = intBefore(u, a - 12, st);
  if (a < st + 6 || !sameUnits(' prio=', u, a - 6)) return false;
  const prio = backValue;
  a = intBefore(u, a - 6, st);
  if (a < st + 10 || !sameUnits(' pid=', u, a - 5)) return false;
  out.a0 = b.tasks.internUnits(backValue, u, s, st + 5, a - 5, prio);
  out.a1 = target;
  return true;
}

/** `comm=A pid=N prio=P [success=1] [target_cpu=C]` or `A:N [P] [success=1] CPU:C`. */
function decodeWakeup(
  b: TraceBuilder,
  u: Uint16Array,
  s: string,
  st: number,
  en: number,
  out: Payload,
): boolean {
  let end = en;
  let target = -1;
  if (sameUnits('comm=', u, st)) {
    if (fastPaths.on && wakeupKeysFast(b, u, s, st, en, out)) return true;
    const t = lastKeyInt(s, ' target_cpu=', end, st, en);
    if (t.at >= 0) {
      if (!ok(t.value)) return false;
      target = t.value;
      end = t.at;
    }
    // A `success=1` (kernels before 4.15) after prio ends at a space like any token.
    const prio = lastKeyInt(s, ' prio=', end, st, en);
    const pid = lastKeyInt(s, ' pid=', prio.at, st, en);
    if (prio.at < 0 || pid.at < 0 || !ok(prio.value) || !ok(pid.value)) return false;
    out.a0 = b.tasks.internUnits(pid.value, u, s, st + 5, pid.at, prio.value);
    out.a1 = target;
    return true;
  }
  const colon = lastChar(u, 58 /* : */, en - 1, st);
  if (colon >= 4 && sameUnits(' CPU', u, colon - 4) && colon - 4 >= st) {
    target = intInUnits(u, colon + 1, en);
    if (!ok(target)) return false;
    end = colon - 4;
  }
  // `success=1` (kernels before 4.15) sits between `[prio]` and `CPU:`; the task ends at `]`.
  const rb = lastChar(u, 93 /* ] */, end - 1, st);
  const task = rb < 0 ? -1 : prettyTaskAt(b, u, s, st, rb + 1);
  if (task < 0) return false;
  out.a0 = task;
  out.a1 = target;
  return true;
}

function decodeMigrate(b: TraceBuilder, s: string, st: number, en: number, out: Payload): boolean {
  if (!sameText('comm=', s, st)) return false;
  const dest = lastKeyInt(s, ' dest_cpu=', en, st, en);
  const orig = lastKeyInt(s, ' orig_cpu=', dest.at, st, en);
  const prio = lastKeyInt(s, ' prio=', orig.at, st, en);
  const pid = lastKeyInt(s, ' pid=', prio.at, st, en);
  if (dest.at < 0 || orig.at < 0 || prio.at < 0 || pid.at < 0) return false;
  if (!ok(dest.value) || !ok(orig.value) || !ok(prio.value) || !ok(pid.value)) return false;
  if (dest.value < 0 || dest.value > 0xffff || orig.value < 0 || orig.value > 0xffff) return false;
  out.a0 = b.tasks.internAt(pid.value, s, st + 5, pid.at, prio.value);
  out.a1 = (orig.value << 16) | dest.value;
  return true;
}

/** `comm=A pid=N child_comm=B child_pid=M`; raw fields (-R) name the first two parent_comm, parent_pid. */
function decodeFork(b: TraceBuilder, s: string, st: number, en: number, out: Payload): boolean {
  const raw = sameText('parent_comm=', s, st);
  if (!raw && !sameText('comm=', s, st)) return false;
  const cpid = lastKeyInt(s, ' child_pid=', en, st, en);
  const ccomm = last(' child_comm=', cpid.at, st);
  const pid = lastKeyInt(s, raw ? ' parent_pid=' : ' pid=', ccomm, st, en);
  if (cpid.at < 0 || ccomm < 0 || pid.at < 0 || !ok(cpid.value) || !ok(pid.value)) return false;
  out.a0 = b.tasks.internAt(pid.value, s, st + (raw ? 12 : 5), pid.at);
  out.a1 = b.tasks.internAt(cpid.value, s, ccomm + 12, cpid.at);
  return true;
}

/** sched_process_exit / free / wait: `comm=A pid=N prio=P [group_dead=1]`. */
function decodeProcess(b: TraceBuilder, s: string, st: number, en: number, out: Payload): boolean {
  if (!sameText('comm=', s, st)) return false;
  let end = en;
  let groupDead = -1;
  const g = last(' group_dead=', end, st);
  if (g >= 0) {
    // Printed as %d on some kernels and as a bool (`true`/`false`) on others.
    const ve = tokenEnd(s, g + 12, en);
    groupDead =
      s.startsWith('true', g + 12) && ve === g + 16
        ? 1
        : s.startsWith('false', g + 12) && ve === g + 17
          ? 0
          : intIn(s, g + 12, ve);
    if (!ok(groupDead)) return false;
    end = g;
  }
  const prio = lastKeyInt(s, ' prio=', end, st, en);
  const pid = lastKeyInt(s, ' pid=', prio.at >= 0 ? prio.at : end, st, en);
  if (pid.at < 0 || !ok(pid.value)) return false;
  if (prio.at >= 0 && !ok(prio.value)) return false;
  out.a0 = b.tasks.internAt(pid.value, s, st + 5, pid.at, prio.at >= 0 ? prio.value : PRIO_UNKNOWN);
  out.a1 = groupDead;
  return true;
}

/** `comm=A pid=N runtime=R [ns]` with an optional ` vruntime=V [ns]` (kernels before 6.8). */
function decodeRuntime(b: TraceBuilder, s: string, st: number, en: number, out: Payload): boolean {
  if (!sameText('comm=', s, st)) return false;
  let end = en;
  let vruntime = NaN;
  const v = last(' vruntime=', end, st);
  if (v >= 0) {
    vruntime = intIn(s, v + 10, tokenEnd(s, v + 10, en));
    if (!ok(vruntime)) return false;
    end = v;
  }
  const r = last(' runtime=', end, st);
  if (r < 0) return false;
  const runtime = intIn(s, r + 9, tokenEnd(s, r + 9, en));
  const pid = lastKeyInt(s, ' pid=', r, st, en);
  if (!ok(runtime) || pid.at < 0 || !ok(pid.value)) return false;
  out.a0 = b.tasks.internAt(pid.value, s, st + 5, pid.at);
  if (v < 0 && runtime >= 0 && runtime <= 0x7fffffff) out.a1 = runtime;
  else out.a1 = -(1 + b.events.pushWide(runtime, vruntime));
  return true;
}

/**
 * kvm_entry `vcpu 3, rip 0xffffffff8104c8f6` and kvm_exit `vcpu 3 reason HLT rip 0x... info1 ...`
 * (kernels >= 5.13; older ones print `reason HLT rip ...` with no vcpu), per
 * arch/x86/kvm/trace.h. Packs the vcpu (16 bits, 0xffff = not printed) and, for kvm_exit, the
 * interned reason (15 bits) into a0; the whole text stays in the text pool.
 */
function decodeKvm(
  b: TraceBuilder,
  s: string,
  st: number,
  en: number,
  exit: boolean,
  out: Payload,
): boolean {
  if (sameText('vcpu_id=', s, st) || sameText('exit_reason=', s, st))
    return decodeKvmRaw(b, s, st, en, exit, out);
  let vcpu = 0xffff;
  if (s.startsWith('vcpu ', st)) {
    let e = st + 5;
    while (e < en && s.charCodeAt(e) >= 48 && s.charCodeAt(e) <= 57) e++;
    const v = intIn(s, st + 5, e);
    if (!ok(v) || v >= 0xffff) return false;
    vcpu = v;
  }
  let reason = 0;
  if (exit) {
    const r = s.indexOf('reason ', st);
    if (r < 0 || r >= en) return false;
    const id = b.exitReasons.intern(s.slice(r + 7, tokenEnd(s, r + 7, en)));
    reason = id < 0x7fff ? id + 1 : 0x7fff;
  }
  out.a0 = vcpu | (reason << 16);
  out.a1 = b.text(s.slice(st, en));
  return true;
}

/**
 * kvm_entry and kvm_exit as raw fields (trace-cmd report -R), per arch/x86/kvm/trace.h:
 * `vcpu_id=0 rip=0xffffffffa13f2e30` and `exit_reason=49 guest_rip=0x... isa=1 info1=0x...
 * vcpu_id=0`. The reason is named from the VMX table when isa is 1 (VMX); on SVM (isa=2), whose
 * names the kernel spells its own way, it stays the number.
 */
function decodeKvmRaw(
  b: TraceBuilder,
  s: string,
  st: number,
  en: number,
  exit: boolean,
  out: Payload,
): boolean {
  const v = sameText('vcpu_id=', s, st)
    ? { at: st, value: intIn(s, st + 8, tokenEnd(s, st + 8, en)) }
    : lastKeyInt(s, ' vcpu_id=', en, st, en);
  let vcpu = 0xffff;
  if (v.at >= 0) {
    if (!ok(v.value) || v.value < 0 || v.value >= 0xffff) return false;
    vcpu = v.value;
  }
  let reason = 0;
  if (exit) {
    if (!sameText('exit_reason=', s, st)) return false;
    const num = intIn(s, st + 12, tokenEnd(s, st + 12, en));
    if (!ok(num)) return false;
    const isa = lastKeyInt(s, ' isa=', en, st, en);
    const name = isa.value === 1 ? VMX_EXIT_REASONS[num] : undefined;
    const id = b.exitReasons.intern(name ?? String(num));
    reason = id < 0x7fff ? id + 1 : 0x7fff;
  }
  out.a0 = vcpu | (reason << 16);
  out.a1 = b.text(s.slice(st, en));
  return true;
}

/**
 * Decodes the field text s[st, en) for an event of `kind` into `out`; false when the text does
 * not have the kind's layout (the caller keeps the event as generic text and reports it). `name`
 * is the printed event name, needed for the raw tracefs spelling of print events. `u`: the code
 * units of `s` (ingest/lines.ts LineHandler); made here, for the kinds that read them, when absent.
 */
export function decodeFields(
  b: TraceBuilder,
  kind: Kind,
  name: string,
  s: string,
  st: number,
  en: number,
  out: Payload,
  u?: Uint16Array,
): boolean {
  viewSrc = s;
  viewStart = st;
  viewEnd = en;
  view = undefined;
  switch (kind) {
    case Kind.schedSwitch:
      return decodeSwitch(b, u ?? ownUnits.of(s), s, st, en, out);
    case Kind.schedWakeup:
    case Kind.schedWakeupNew:
    case Kind.schedWaking:
      return decodeWakeup(b, u ?? ownUnits.of(s), s, st, en, out);
    case Kind.schedMigrateTask:
      return decodeMigrate(b, s, st, en, out);
    case Kind.schedProcessFork:
      return decodeFork(b, s, st, en, out);
    case Kind.schedProcessExit:
    case Kind.schedProcessFree:
    case Kind.schedProcessWait:
      return decodeProcess(b, s, st, en, out);
    case Kind.schedStatRuntime:
      return decodeRuntime(b, s, st, en, out);
    case Kind.kvmEntry:
      return decodeKvm(b, s, st, en, false, out);
    case Kind.kvmExit:
      return decodeKvm(b, s, st, en, true, out);
    case Kind.kvmVcpuWakeup:
      out.a0 = -1;
      out.a1 = b.text(s.slice(st, en));
      return true;
    case Kind.print: {
      if (name === 'tracing_mark_write') {
        // tracefs prints the print event as `<ip symbol>: <message>`; the symbol took the name slot.
        out.a0 = b.text(s.slice(st, en));
        out.a1 = b.strings.intern(name);
        return true;
      }
      // trace-cmd: `tracing_mark_write: message`; an unresolved ip prints as hex.
      const c = s.indexOf(': ', st);
      if (c > st && c < en && s.indexOf(' ', st) === c + 1) {
        out.a0 = b.text(s.slice(c + 2, en));
        out.a1 = b.strings.intern(s.slice(st, c));
      } else {
        out.a0 = b.text(s.slice(st, en));
        out.a1 = -1;
      }
      return true;
    }
    case Kind.sysEnter:
    case Kind.sysExit:
    case Kind.generic:
      out.a0 = b.text(s.slice(st, en));
      out.a1 = -1;
      return true;
  }
}

/** What libtraceevent prints before an event's raw fields when its print fmt did not parse. */
const FAILED_TO_PARSE = '[FAILED TO PARSE]';

/** 1 for the kinds whose fields are keys and values (sched_*, kvm_*), by Kind. */
export const KEYED = ((): Uint8Array => {
  const t = new Uint8Array(64);
  for (const k of [
    Kind.schedSwitch,
    Kind.schedWakeup,
    Kind.schedWakeupNew,
    Kind.schedWaking,
    Kind.schedMigrateTask,
    Kind.schedProcessFork,
    Kind.schedProcessExit,
    Kind.schedProcessFree,
    Kind.schedProcessWait,
    Kind.schedStatRuntime,
    Kind.kvmEntry,
    Kind.kvmExit,
  ])
    t[k] = 1;
  return t;
})();

/**
 * Decodes an event's fields s[st, en) into `out` and returns its type id; when the text is not in
 * the kind's layout, keeps it as generic text under the same name (an "undecoded" type) and
 * reports it, as a cut-short line when it is the file's last line without a newline.
 */
export function decodeOrKeep(
  b: TraceBuilder,
  type: number,
  s: string,
  u: Uint16Array,
  st: number,
  en: number,
  out: Payload,
  line: number,
  lastWithoutNewline: boolean,
): number {
  const name = b.eventTypes[type]!.name;
  const kind = b.kindOf(type);
  let from = st;
  if (KEYED[kind] === 1) {
    // Fields of a keyed layout never start with a space: one more pad space after the name
    // (older trace-cmd) or libtraceevent's `[FAILED TO PARSE]` before its raw fields go.
    while (from < en && u[from] === 32) from++;
    if (sameUnits(FAILED_TO_PARSE, u, from)) {
      from += FAILED_TO_PARSE.length;
      while (from < en && u[from] === 32) from++;
    }
  }
  const decoded = decodeFields(b, kind, name, s, from, en, out, u);
  // Let go of the chunk: held by the search view, it outlived its parsing (copied by the
  // scavenges it survived).
  viewSrc = '';
  view = undefined;
  if (decoded) return type;
  const text = s.slice(st, en);
  b.diags.add({
    code: lastWithoutNewline ? DIAG.truncatedLine : DIAG.badFields,
    severity: 'warning',
    line,
    message: `${name}: ${lastWithoutNewline ? 'last line is cut short (file truncated?)' : 'fields not in the expected layout'}, kept as text: ${preview(text)}`,
  });
  out.a0 = b.text(text);
  out.a1 = -1;
  return b.undecodedTypeId(name);
}
