// Tasks as the trace names them: (pid, comm, prio) tuples interned to 22-bit ids. A thread that
// changes its comm (exec) or priority gets a second id with the same pid.

import { StringTable } from './string-table';
import { MAX_TASKS } from './event-kinds';
import { detachExact } from './text-pool';

/** Priority value meaning "not printed on this event". */
export const PRIO_UNKNOWN = -32768;
/** Pids below this (Linux's PID_MAX_LIMIT) use the array cache; others only the Map. */
const PID_CACHE_LIMIT = 1 << 22;
const WAYS = 4;

export class TaskTable {
  private readonly keyToId = new Map<string, number>();
  private pids = new Int32Array(1024);
  private comms = new Int32Array(1024);
  private prios = new Int16Array(1024);
  private tgidByPid = new Map<number, number>();
  /** Per pid (below PID_CACHE_LIMIT), WAYS slots of 1 + a recent task id; 0 = empty. */
  private recent = new Int32Array(4096 * WAYS);
  /**
   * Each task's comm as UTF-16 code units, task after task (task id's at commOff[id] to
   * commOff[id + 1]): the per-line comparison reads a typed array instead of a second string.
   */
  private commChars = new Uint16Array(16384);
  private commOff = new Int32Array(1025);
  private n = 0;
  /** Set when more distinct tasks were seen than ids exist; those all map to the last id. */
  overflowed = false;

  constructor(readonly strings: StringTable) {}

  /** The id for (pid, comm, prio). */
  intern(pid: number, comm: string, prio: number = PRIO_UNKNOWN): number {
    return this.internAt(pid, comm, 0, comm.length, prio);
  }

  /**
   * The id for (pid, s[start, end), prio) without slicing the comm out of the line in the common
   * case: the last task seen for this pid, compared in place. One Map lookup per call.
   */
  internAt(
    pid: number,
    s: string,
    start: number,
    end: number,
    prio: number = PRIO_UNKNOWN,
  ): number {
    // A pid usually shows up under a few names at once: the event owner (no prio), the sched
    // payload (with prio), and for pid 0 `<idle>` plus one `swapper/N` per CPU. Keep 4 per pid.
    const cacheable = pid >= 0 && pid < PID_CACHE_LIMIT;
    const base = pid * WAYS;
    const len = end - start;
    const recent = this.recent;
    if (cacheable && base < recent.length) {
      const prios = this.prios;
      const off = this.commOff;
      const chars = this.commChars;
      for (let w = 0; w < WAYS; w++) {
        const id = recent[base + w]! - 1;
        if (id < 0) break;
        if (prios[id] !== prio) continue;
        const o = off[id]!;
        if (off[id + 1]! - o !== len) continue;
        let k = 0;
        while (k < len && chars[o + k] === s.charCodeAt(start + k)) k++;
        if (k === len) return id;
      }
    }
    return this.internSlow(pid, s, start, end, prio, cacheable, base);
  }

  /**
   * internAt reading the comm from `u`, the code units of `s` (ingest/lines.ts LineHandler): the
   * per-line comparison with the cached tasks reads a typed array, not the string. Same answers.
   */
  internUnits(
    pid: number,
    u: Uint16Array,
    s: string,
    start: number,
    end: number,
    prio: number = PRIO_UNKNOWN,
  ): number {
    const cacheable = pid >= 0 && pid < PID_CACHE_LIMIT;
    const base = pid * WAYS;
    const len = end - start;
    const recent = this.recent;
    if (cacheable && base < recent.length) {
      const prios = this.prios;
      const off = this.commOff;
      const chars = this.commChars;
      for (let w = 0; w < WAYS; w++) {
        const id = recent[base + w]! - 1;
        if (id < 0) break;
        if (prios[id] !== prio) continue;
        const o = off[id]!;
        if (off[id + 1]! - o !== len) continue;
        let k = 0;
        while (k < len && chars[o + k] === u[start + k]) k++;
        if (k === len) return id;
      }
    }
    return this.internSlow(pid, s, start, end, prio, cacheable, base);
  }

  /** internAt's lookup when no recent task of the pid matched. */
  private internSlow(
    pid: number,
    s: string,
    start: number,
    end: number,
    prio: number,
    cacheable: boolean,
    base: number,
  ): number {
    const comm = s.slice(start, end);
    const key = prio === PRIO_UNKNOWN ? `${pid}\u0000${comm}` : `${pid}\u0000${comm}\u0000${prio}`;
    let id = this.keyToId.get(key);
    if (id === undefined) {
      if (this.n >= MAX_TASKS) {
        this.overflowed = true;
        return MAX_TASKS - 1;
      }
      id = this.n++;
      if (id >= this.pids.length) this.grow();
      this.pids[id] = pid;
      this.comms[id] = this.strings.intern(comm);
      this.addCommChars(id, comm);
      this.prios[id] = prio;
      // A key of its own: built from a slice of the line, it kept the whole chunk alive.
      this.keyToId.set(detachExact(key), id);
    }
    if (cacheable) {
      if (base >= this.recent.length) {
        const grown = new Int32Array(
          Math.min(PID_CACHE_LIMIT, Math.max(pid + 1, (this.recent.length / WAYS) * 2)) * WAYS,
        );
        grown.set(this.recent);
        this.recent = grown;
      }
      // Newest first; the oldest of the 4 falls out.
      this.recent.copyWithin(base + 1, base, base + WAYS - 1);
      this.recent[base] = id + 1;
    }
    return id;
  }

  private addCommChars(id: number, comm: string): void {
    const o = this.commOff[id]!;
    if (o + comm.length > this.commChars.length) {
      const c = new Uint16Array(Math.max(this.commChars.length * 2, o + comm.length));
      c.set(this.commChars);
      this.commChars = c;
    }
    for (let k = 0; k < comm.length; k++) this.commChars[o + k] = comm.charCodeAt(k);
    this.commOff[id + 1] = o + comm.length;
  }

  private grow(): void {
    const cap = this.pids.length * 2;
    const p = new Int32Array(cap);
    p.set(this.pids);
    this.pids = p;
    const c = new Int32Array(cap);
    c.set(this.comms);
    this.comms = c;
    const r = new Int16Array(cap);
    r.set(this.prios);
    this.prios = r;
    const o = new Int32Array(cap + 1);
    o.set(this.commOff);
    this.commOff = o;
  }

  setTgid(pid: number, tgid: number): void {
    if (!this.tgidByPid.has(pid)) this.tgidByPid.set(pid, tgid);
  }

  tgid(pid: number): number | undefined {
    return this.tgidByPid.get(pid);
  }

  get size(): number {
    return this.n;
  }

  pid(id: number): number {
    return this.pids[id]!;
  }

  commId(id: number): number {
    return this.comms[id]!;
  }

  comm(id: number): string {
    return this.strings.get(this.comms[id]!);
  }

  /** The printed priority, or PRIO_UNKNOWN. */
  prio(id: number): number {
    return this.prios[id]!;
  }

  /** Distinct pids among all tasks. */
  distinctPids(): Set<number> {
    const s = new Set<number>();
    for (let i = 0; i < this.n; i++) s.add(this.pids[i]!);
    return s;
  }

  approxBytes(): number {
    return this.pids.byteLength + this.comms.byteLength + this.prios.byteLength + this.n * 80;
  }

  /** The columns (copies, trimmed) and tgids, for moving the table to another thread. */
  snapshot(): TaskTableSnapshot {
    return {
      pids: this.pids.slice(0, this.n),
      comms: this.comms.slice(0, this.n),
      prios: this.prios.slice(0, this.n),
      tgids: [...this.tgidByPid],
      overflowed: this.overflowed,
    };
  }

  /** Rebuilds a table over `strings` (the restored string table the comm ids point into). */
  static restore(strings: StringTable, snap: TaskTableSnapshot): TaskTable {
    const t = new TaskTable(strings);
    for (let id = 0; id < snap.pids.length; id++) {
      t.intern(snap.pids[id]!, strings.get(snap.comms[id]!), snap.prios[id]!);
    }
    for (const [pid, tgid] of snap.tgids) t.setTgid(pid, tgid);
    t.overflowed = snap.overflowed;
    return t;
  }
}

export interface TaskTableSnapshot {
  pids: Int32Array;
  comms: Int32Array;
  prios: Int16Array;
  tgids: [number, number][];
  overflowed: boolean;
}
