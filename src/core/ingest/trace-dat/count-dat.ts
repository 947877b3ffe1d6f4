// The count-only read of a .dat buffer (ImportOptions.countOnly, `info`): the ordered decoder's
// tables and task rules, but each CPU's pages walked in one loop instead of merged (count()).

import { Kind, MAX_TASKS } from '../../model/event-kinds';
import { tscToNs } from '../../model/time';
import { CPU_UNKNOWN, Trace } from '../../model/trace';
import { CACHE_MASK, CACHE_SLOTS, COMM_BYTES, DatDecoder, stateText } from './decoder';
import type { Field } from './format';
import { CpuStream } from './kbuffer';

/** sched_migrate_task's CPUs as direct() takes them (else it is printed): each in 0..0xffff. */
function cpusFit(w: Int32Array, q: number, plan: Int32Array, at: number): boolean {
  const o = w[q + plan[at + PLAN_ORIG]!]!;
  const d = w[q + plan[at + PLAN_DEST]!]!;
  return o >= 0 && o <= 0xffff && d >= 0 && d <= 0xffff;
}

/** Where an event is in the merge's order (count()): raw timestamp, CPU, index in the CPU's stream. */
interface CountKey {
  ts: number;
  cpu: number;
  seq: number;
}

function keyBefore(a: CountKey, b: CountKey): boolean {
  return a.ts < b.ts || (a.ts === b.ts && (a.cpu < b.cpu || (a.cpu === b.cpu && a.seq < b.seq)));
}

// The count loop's ops (CountingDatDecoder.planFor) and a plan's entries.
const OP_COUNT = 1;
const OP_SWITCH = 2;
const OP_WAKEUP = 3;
const OP_WAKING = 4;
const OP_GENERAL = 5;
const OP_MIGRATE = 6;
const PLAN_TYPE = 1;
const PLAN_MIN_LEN = 2;
const PLAN_PID = 3;
const PLAN_COMM = 4;
const PLAN_TPID = 5;
const PLAN_PRIO = 6;
const PLAN_STATE = 7;
const PLAN_STATE_HI = 8;
const PLAN_NEXT_COMM = 9;
const PLAN_NEXT_PID = 10;
const PLAN_NEXT_PRIO = 11;
const PLAN_ORIG = 12;
const PLAN_DEST = 13;
const PLAN_SIZE = 14;

export class CountingDatDecoder extends DatDecoder {
  /**
   * A count-only read (ImportOptions.countOnly, `info`) without the merge: each CPU's pages walked
   * in one loop, the scheduler events' tasks found through a cache of (pid, prio, comm's words).
   * What the merge's order decides is worked out from keys instead (raw timestamp, CPU, index in
   * the CPU's stream, the order the merge takes them in when no CPU's time goes back): whether a
   * pid owned an event before a scheduler event named it (trace-cmd's `<...>`), and the comm it
   * learned. Undefined when only the ordered read can say the same: anything diagnosed on the way
   * (damage, lost events, an event of no format), a CPU's time going back, an event printed rather
   * than read from its fields, a CPU past the header's count, big-endian data, the tables at a cap;
   * the caller then reads it in order (run()).
   */
  count(first: boolean): Trace | undefined {
    const f = this.f;
    const b = this.b;
    const hp = f.headerPage;
    const pageSize = this.buffer.pageSize;
    if (!f.little || !this.countOnly || pageSize % 4 !== 0 || hp.dataOffset % 4 !== 0)
      return undefined;
    // A damaged file (cut short, bad sections): its events' diagnostics are the ordered read's.
    if (f.damage.length > 0 || f.notes.length > 0) return undefined;
    for (const c of this.buffer.cpus) if (c.offset + c.size > this.buf.length) return undefined;
    const offsetAdd = this.begin(first);
    const diagsBefore = this.sink.total;
    const hdrCpus = b.header.cpus;
    for (const c of this.buffer.cpus)
      if (c.cpu >= CPU_UNKNOWN || (hdrCpus !== undefined && c.cpu >= hdrCpus)) return undefined;
    let trouble = false;
    const sinkObj = {
      damage: (): void => void (trouble = this.cnTrouble = true),
      lost: (): void => void (trouble = this.cnTrouble = true),
    };
    this.cnDiags = diagsBefore;
    const types = f.formats.size + 2;
    this.cnPlan = new Int32Array((types + 1) * PLAN_SIZE);
    this.cnPerType = new Float64Array(b.eventTypes.length + types);
    let firstRaw = Infinity;
    let lastRaw = -Infinity;
    let maxCpu = -1;
    const streams = this.buffer.cpus.map(
      (c) =>
        new CpuStream(
          this.buf,
          f,
          c,
          pageSize,
          this.buffer.chunked,
          this.opts.decompressors,
          sinkObj,
        ),
    );
    const span = new Float64Array(streams.length * 2);
    const total = this.countStreams(streams, span);
    if (total < 0) trouble = true;
    streams.forEach((st, i) => {
      // A stream with events: its first timestamp is a number (NaN: none).
      if (Number.isNaN(span[2 * i]!)) return;
      if (span[2 * i]! < firstRaw) firstRaw = span[2 * i]!;
      if (span[2 * i + 1]! > lastRaw) lastRaw = span[2 * i + 1]!;
      if (st.cpu > maxCpu) maxCpu = st.cpu;
    });
    if (trouble || this.sink.total !== diagsBefore) return undefined;
    // The owners' names, as owner() would have interned them in the merge's order.
    const cmdlines = f.cmdlinesOf(new Set(this.firstOwn.keys()));
    for (const [pid, own] of this.firstOwn) {
      if (pid === 0 || cmdlines.has(pid)) {
        b.tasks.intern(pid, pid === 0 ? '<idle>' : cmdlines.get(pid)!);
        continue;
      }
      const save = this.firstSave.get(pid);
      if (save === undefined || !keyBefore(save, own)) b.tasks.intern(pid, '<...>');
      // Its events after that are the learned comm's (the name task() has interned already; as
      // an owner's task, without prio, it may be one task more than the ordered read makes,
      // which matters only near the table's cap, where this read gives way to that one).
      if (save !== undefined) b.tasks.intern(pid, save.comm);
    }
    if (b.tasks.overflowed || b.tasks.size + this.firstOwn.size >= MAX_TASKS) return undefined;
    const tsc = this.tsc;
    const conv = (raw: number): number =>
      (tsc !== undefined ? tscToNs(raw, tsc.mult, tsc.shift) : raw) + offsetAdd;
    let minTs = 0;
    let maxTs = 0;
    if (total > 0) {
      const ts = conv(firstRaw);
      const split = this.split;
      split.hi = Math.floor(ts / 1e9);
      split.lo = ts - split.hi * 1e9;
      const base = ts - b.relTs(split);
      minTs = ts - base;
      maxTs = conv(lastRaw) - base;
    }
    if (!b.countEvents(this.cnPerType, total, minTs, maxTs, maxCpu)) return undefined;
    return this.finish();
  }

  // The count-only read's state (count()).
  /** Damage or lost events met (the streams' sink), and the diagnostics before counting. */
  private cnTrouble = false;
  private cnDiags = 0;
  /** Each pid's first event it owns, and first scheduler event naming it (with the comm). */
  private readonly firstOwn = new Map<number, CountKey>();
  private readonly firstSave = new Map<number, CountKey & { comm: string }>();
  /** Pids whose first owned event in this CPU's stream was noted (a slot by pid, then the set). */
  private readonly ownSlot = new Float64Array(CACHE_SLOTS);
  private readonly ownedHere = new Set<number>();
  /** The key of the record a slow path looks at (noteSave reads it). */
  private kTs = 0;
  private kCpu = 0;
  private kSeq = 0;
  private cnPerType = new Float64Array(0);
  /**
   * Each event type's plan, by slot (cnSlot: type id to slot; slot 0, op 0: none yet): op, type,
   * then words (4-byte units from the record's start) of the fields the op reads (PLAN_* indices).
   */
  private readonly cnSlot = new Uint16Array(65536);
  private cnPlan = new Int32Array(0);
  private cnPlans = 0;
  /** The tasks cache of the count loop: pid, prio, the comm's 4 words, the stream that saved it. */
  private readonly lcPid = new Float64Array(CACHE_SLOTS).fill(NaN);
  private readonly lcPrio = new Int32Array(CACHE_SLOTS);
  private readonly lcComm = new Int32Array(CACHE_SLOTS * 4);
  private readonly lcSaved = new Int32Array(CACHE_SLOTS).fill(-1);
  /** sched_switch prev_state's low byte to its state id (-2: not yet asked). */
  private readonly stateByByte = new Int16Array(256).fill(-2);
  /** A copy of a block not on a 4-byte boundary, read through cnWords. */
  private aligned = new Uint8Array(0);

  /**
   * Counts the CPUs' events (count()): the number, or -1 when the ordered read is needed; each
   * stream's first and last raw timestamps into `span` (NaN: no events). One loop over the pages'
   * records reading 4-byte words, which V8 optimises on the stack early; a record it cannot settle
   * from its caches (a type, task, owner or state not seen yet, or not a type it reads) goes whole
   * to one call, countSlow. Code V8 has seen no run of deoptimises the loop when it first runs:
   * so every stream's first page is read before any stream's rest (the switch between streams
   * has run by then), and the loop stores nothing when a stream ends. A stream is read in two
   * goes, each with the caches started afresh (the first-in-stream notes then come again: the
   * earlier one wins).
   */
  private countStreams(streams: CpuStream[], span: Float64Array): number {
    let total = 0;
    let w: Int32Array = new Int32Array(0);
    span.fill(NaN);
    const seqs = new Float64Array(streams.length);
    for (let go = 0; go < 2 * streams.length; go++) {
      const i = go % streams.length;
      const s = streams[i]!;
      // The caches' notes of this stream start afresh (lcSaved: a stamp per go).
      this.ownSlot.fill(NaN);
      this.ownedHere.clear();
      this.tcSaved.fill(0);
      // The index of the stream's next event.
      let seq = seqs[i]!;
      let bytes: Uint8Array | undefined;
      let pages = go < streams.length ? 1 : Infinity;
      while (pages-- > 0 && s.nextDataPage()) {
        if (s.bytes !== bytes) {
          bytes = s.bytes;
          w = this.words(bytes);
        }
        // Damage, or a diagnostic (a record printed, a type of no format): the ordered read's,
        // and counting further would only be undone.
        if (this.cnTrouble || this.sink.total !== this.cnDiags) return -1;
        seq = this.countPage(s, bytes, w, i, go, span, seq);
        if (seq < 0) return -1;
      }
      total += seq - seqs[i]!;
      seqs[i] = seq;
    }
    return total;
  }

  /**
   * The records of the page `s` is at (countStreams): the stream's event index after them, or -1
   * when the ordered read is needed. The loop V8 optimises: small, so that it compiles soon.
   */
  private countPage(
    s: CpuStream,
    bytes: Uint8Array,
    w: Int32Array,
    i: number,
    stamp: number,
    span: Float64Array,
    seq: number,
  ): number {
    const slotOf = this.cnSlot;
    const ownSlot = this.ownSlot;
    const lcPid = this.lcPid;
    const lcPrio = this.lcPrio;
    const lcComm = this.lcComm;
    const lcSaved = this.lcSaved;
    const states = this.stateByByte;
    const perType = this.cnPerType;
    const plan = this.cnPlan;
    // The stream's latest timestamp so far.
    const prev0 = span[2 * i + 1]!;
    let prev = Number.isNaN(prev0) ? -Infinity : prev0;
    let ts = s.ts;
    let p = s.pos;
    const end = s.end;
    while (p + 4 <= end) {
      const word = w[p >> 2]!;
      const typeLen = word & 31;
      const delta = word >>> 5;
      let r = p + 4;
      let len: number;
      if (typeLen === 0) {
        if (r + 4 > end) return -1;
        len = ((w[r >> 2]! - 4 + 3) & ~3) >>> 0;
        r += 4;
      } else if (typeLen <= 28) {
        len = typeLen * 4;
      } else if (typeLen === 29) {
        if (delta === 0) break;
        if (r + 4 > end) return -1;
        ts += delta;
        p = r + (w[r >> 2]! >>> 0);
        if ((p & 3) !== 0) return -1;
        continue;
      } else {
        if (r + 4 > end) return -1;
        const ext = (w[r >> 2]! >>> 0) * 134217728 + delta;
        ts = typeLen === 30 ? ts + ext : ext;
        p = r + 4;
        continue;
      }
      if (r + len > end) return -1;
      ts += delta;
      p = r + len;
      if (ts < prev || len < 8) return -1;
      prev = ts;
      span[2 * i + 1] = ts;
      if (seq === 0) span[2 * i] = ts;
      const q = r >> 2;
      const at = slotOf[w[q]! & 0xffff]! * PLAN_SIZE;
      const op = plan[at]!;
      const pw = plan[at + PLAN_PID]!;
      const pid = pw >= 0 ? w[q + pw]! : -1;
      // Settled here: a type read from its words, the record long enough, the owner noted, and
      // each (comm, pid, prio) in the cache (saved in this stream when the op saves).
      let known =
        op !== 0 &&
        op !== OP_GENERAL &&
        len >= plan[at + PLAN_MIN_LEN]! &&
        ownSlot[pid & CACHE_MASK] === pid;
      if (known && op !== OP_COUNT) {
        let c = q + plan[at + PLAN_COMM]!;
        let tp = w[q + plan[at + PLAN_TPID]!]!;
        let k = tp & CACHE_MASK;
        known =
          lcPid[k] === tp &&
          lcPrio[k] === w[q + plan[at + PLAN_PRIO]!] &&
          lcComm[k * 4] === w[c] &&
          lcComm[k * 4 + 1] === w[c + 1] &&
          lcComm[k * 4 + 2] === w[c + 2] &&
          lcComm[k * 4 + 3] === w[c + 3] &&
          (op === OP_WAKING || lcSaved[k] === stamp) &&
          (op !== OP_MIGRATE || cpusFit(w, q, plan, at));
        if (known && op === OP_SWITCH) {
          const hi = plan[at + PLAN_STATE_HI]!;
          c = q + plan[at + PLAN_NEXT_COMM]!;
          tp = w[q + plan[at + PLAN_NEXT_PID]!]!;
          k = tp & CACHE_MASK;
          known =
            (hi < 0 || w[q + hi] === 0) &&
            states[w[q + plan[at + PLAN_STATE]!]! & 255]! >= 0 &&
            lcPid[k] === tp &&
            lcPrio[k] === w[q + plan[at + PLAN_NEXT_PRIO]!] &&
            lcComm[k * 4] === w[c] &&
            lcComm[k * 4 + 1] === w[c + 1] &&
            lcComm[k * 4 + 2] === w[c + 2] &&
            lcComm[k * 4 + 3] === w[c + 3] &&
            lcSaved[k] === stamp;
        }
      }
      if (known) perType[plan[at + PLAN_TYPE]!]!++;
      else if (!this.countSlow(s, bytes, w, r, len, ts, seq, stamp)) return -1;
      seq++;
    }
    return seq;
  }

  /**
   * A record countStream could not settle, all of it: its type's plan when new, its owner, then
   * the op's tasks and state through the exact paths (which fill the caches), or event()'s way.
   */
  private countSlow(
    s: CpuStream,
    bytes: Uint8Array,
    w: Int32Array,
    r: number,
    len: number,
    ts: number,
    seq: number,
    stamp: number,
  ): boolean {
    const cpu = s.cpu;
    this.setRecord(s, bytes, r, len);
    const q = r >> 2;
    const id = w[q]! & 0xffff;
    let sl = this.cnSlot[id]!;
    if (sl === 0) {
      sl = this.planFor(id, s);
      if (sl === 0) return false;
    }
    const plan = this.cnPlan;
    const at = sl * PLAN_SIZE;
    const op = plan[at]!;
    if (
      op === OP_GENERAL ||
      len < plan[at + PLAN_MIN_LEN]! ||
      (op === OP_MIGRATE && !cpusFit(w, q, plan, at))
    ) {
      if (!this.countGeneral(ts, cpu, seq)) return false;
    } else {
      const pw = plan[at + PLAN_PID]!;
      const pid = pw >= 0 ? w[q + pw]! : -1;
      if (this.ownSlot[pid & CACHE_MASK] !== pid) this.noteOwn(pid, ts, cpu, seq);
      if (op !== OP_COUNT) {
        const tp = w[q + plan[at + PLAN_TPID]!]!;
        const pr = w[q + plan[at + PLAN_PRIO]!]!;
        const save = op !== OP_WAKING && op !== OP_MIGRATE;
        this.leanTask(w, q + plan[at + PLAN_COMM]!, tp, pr, save, stamp, ts, cpu, seq);
      }
      if (op === OP_SWITCH) {
        const hi = plan[at + PLAN_STATE_HI]!;
        const v = w[q + plan[at + PLAN_STATE]!]!;
        if (hi >= 0 && w[q + hi] !== 0) {
          // A state past 32 bits (a damaged record): the ordered read's number, its text.
          return false;
        }
        const byte = v & 255;
        let sid = this.stateByByte[byte]!;
        if (sid === -2) sid = this.stateByByte[byte] = this.b.stateId(stateText(byte));
        if (sid < 0) return false;
        const np = w[q + plan[at + PLAN_NEXT_PID]!]!;
        const npr = w[q + plan[at + PLAN_NEXT_PRIO]!]!;
        this.leanTask(w, q + plan[at + PLAN_NEXT_COMM]!, np, npr, true, stamp, ts, cpu, seq);
      }
    }
    this.cnPerType[plan[at + PLAN_TYPE]!]!++;
    return true;
  }

  /** The block's 4-byte words (little-endian: the count path reads only such files). */
  private words(bytes: Uint8Array): Int32Array {
    if ((bytes.byteOffset & 3) === 0)
      return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
    if (this.aligned.length < bytes.length) this.aligned = new Uint8Array(bytes.length + 3);
    this.aligned.set(bytes);
    return new Int32Array(this.aligned.buffer, 0, bytes.length >> 2);
  }

  /** The record the slow paths read through rb/rdv/rs/rl (as event() sets them). */
  private setRecord(s: CpuStream, bytes: Uint8Array, r: number, len: number): void {
    if (this.rb !== bytes || this.cur !== s) {
      this.cur = s;
      this.rb = bytes;
      this.rdv = s.dv;
    }
    this.rs = r;
    this.rl = len;
  }

  /** The plan for a type first seen (in the count loop): its handler, then how the loop reads it. */
  private planFor(id: number, s: CpuStream): number {
    const h = this.handler(id, s.recOffset());
    // A type of no format, or of none with common_pid (handler() then borrows the first type's
    // seen in the merge's order): the ordered read's.
    if (h.fmt?.byName.get('common_pid') === undefined) return 0;
    // Sized by count() for every format the file has.
    const sl = this.cnPlans + 1;
    if ((sl + 1) * PLAN_SIZE > this.cnPlan.length || h.type >= this.cnPerType.length) return 0;
    const at = sl * PLAN_SIZE;
    const pl = this.cnPlan;
    pl.fill(-1, at, at + PLAN_SIZE);
    pl[at + PLAN_TYPE] = h.type;
    pl[at + PLAN_MIN_LEN] = 8;
    let op = OP_GENERAL;
    // A field the loop reads as a signed 4-byte word: its word, or undefined.
    const word = (fl: Field | null | undefined): number | undefined =>
      fl != null && fl.size === 4 && fl.signed && fl.dynamic === 'none' && fl.offset % 4 === 0
        ? fl.offset / 4
        : undefined;
    const comm = (fl: Field | null | undefined): number | undefined =>
      fl != null &&
      fl.isString &&
      fl.dynamic === 'none' &&
      fl.size === COMM_BYTES &&
      fl.arrayLen === COMM_BYTES &&
      fl.offset % 4 === 0
        ? fl.offset / 4
        : undefined;
    const fields: (Field | null | undefined)[] = [h.pid];
    const pid = h.pid === undefined ? -1 : word(h.pid);
    const d = h.direct;
    const set = (...ws: [number, number | undefined][]): boolean => {
      for (const [, v] of ws) if (v === undefined) return false;
      for (const [k, v] of ws) pl[at + k] = v!;
      return true;
    };
    if (pid !== undefined) {
      pl[at + PLAN_PID] = pid;
      if (this.noText[h.kind] === 1) op = OP_COUNT;
      else if (d !== undefined) {
        const base: [number, number | undefined][] = [
          [PLAN_COMM, comm(d.comm)],
          [PLAN_TPID, word(d.pid)],
          [PLAN_PRIO, word(d.prio)],
        ];
        fields.push(d.comm, d.pid, d.prio);
        if (h.kind === Kind.schedSwitch) {
          const st = d.state;
          const ok =
            st !== null &&
            st.dynamic === 'none' &&
            st.offset % 4 === 0 &&
            (st.size === 4 || st.size === 8);
          fields.push(st, d.nextComm, d.nextPid, d.nextPrio);
          if (
            ok &&
            set(
              ...base,
              [PLAN_STATE, st.offset / 4],
              [PLAN_NEXT_COMM, comm(d.nextComm)],
              [PLAN_NEXT_PID, word(d.nextPid)],
              [PLAN_NEXT_PRIO, word(d.nextPrio)],
            )
          ) {
            if (st.size === 8) pl[at + PLAN_STATE_HI] = st.offset / 4 + 1;
            op = OP_SWITCH;
          }
        } else if (
          (h.kind === Kind.schedWakeup || h.kind === Kind.schedWakeupNew) &&
          d.success === null
        ) {
          if (set(...base)) op = OP_WAKEUP;
        } else if (h.kind === Kind.schedWaking) {
          if (set(...base)) op = OP_WAKING;
        } else if (h.kind === Kind.schedMigrateTask) {
          fields.push(d.origCpu, d.destCpu);
          const cpus: [number, number | undefined][] = [
            [PLAN_ORIG, word(d.origCpu)],
            [PLAN_DEST, word(d.destCpu)],
          ];
          if (set(...base, ...cpus)) op = OP_MIGRATE;
        }
      }
    }
    pl[at] = op;
    for (const fl of fields)
      if (fl != null) pl[at + PLAN_MIN_LEN] = Math.max(pl[at + PLAN_MIN_LEN]!, fl.offset + fl.size);
    this.cnPlans = sl;
    this.cnSlot[id] = sl;
    return sl;
  }

  /** event() for the count loop's other records: false when the ordered read is needed. */
  private countGeneral(ts: number, cpu: number, seq: number): boolean {
    if (this.rl < 8) return false;
    const id = this.rdv.getUint16(this.rs, true);
    const h = this.handler(id, this.cur!.recOffset());
    this.curFmt = h.fmt;
    let pid = h.pid !== undefined ? this.int(h.pid) : -1;
    if (Number.isNaN(pid)) pid = -1;
    if (this.ownSlot[pid & CACHE_MASK] !== pid) this.noteOwn(pid, ts, cpu, seq);
    if (this.noText[h.kind] === 1) return true;
    this.kTs = ts;
    this.kCpu = cpu;
    this.kSeq = seq;
    // Printed: a problem with the text is a warning, and count() then gives way to run().
    if (h.direct === undefined || !this.direct(h.kind, h.direct, this.pl))
      this.printed(h, this.cur!);
    return true;
  }

  /** A pid owns an event not in the slot: the first in this stream is a candidate for its first. */
  private noteOwn(pid: number, ts: number, cpu: number, seq: number): void {
    this.ownSlot[pid & CACHE_MASK] = pid;
    if (this.ownedHere.has(pid)) return;
    this.ownedHere.add(pid);
    const own = this.firstOwn.get(pid);
    if (own === undefined || keyBefore({ ts, cpu, seq }, own))
      this.firstOwn.set(pid, { ts, cpu, seq });
  }

  /** task() for the count loop's cache misses, then the cache filled with this task. */
  private leanTask(
    w: Int32Array,
    c: number,
    pid: number,
    prio: number,
    save: boolean,
    stamp: number,
    ts: number,
    cpu: number,
    seq: number,
  ): void {
    const comm = this.str(c * 4 - this.rs, COMM_BYTES);
    if (save) {
      this.kTs = ts;
      this.kCpu = cpu;
      this.kSeq = seq;
      this.saveComm(pid, comm);
    }
    this.b.tasks.intern(pid, comm, prio);
    const k = pid & CACHE_MASK;
    this.lcPid[k] = pid;
    this.lcPrio[k] = prio;
    this.lcComm[k * 4] = w[c]!;
    this.lcComm[k * 4 + 1] = w[c + 1]!;
    this.lcComm[k * 4 + 2] = w[c + 2]!;
    this.lcComm[k * 4 + 3] = w[c + 3]!;
    this.lcSaved[k] = save ? stamp : -1;
  }

  /** What the sched plugin does with each comm it prints: remember it for pids cmdlines lack. */
  protected override saveComm(pid: number, comm: string): void {
    // count(): the first in the merge's order wins, as learned's first does in DatDecoder's.
    const k = { ts: this.kTs, cpu: this.kCpu, seq: this.kSeq, comm };
    const had = this.firstSave.get(pid);
    if (pid !== 0 && (had === undefined || keyBefore(k, had))) this.firstSave.set(pid, k);
  }
}
