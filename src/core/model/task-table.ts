// Tasks as the trace names them: (pid, comm, prio) tuples interned to 22-bit ids. A thread that
// changes its comm (exec) or priority gets a second id with the same pid.

import { StringTable } from './string-table';
import { MAX_TASKS } from './event-kinds';

/** Priority value meaning "not printed on this event". */
export const PRIO_UNKNOWN = -32768;

export class TaskTable {
  private readonly keyToId = new Map<string, number>();
  private pids = new Int32Array(1024);
  private comms = new Int32Array(1024);
  private prios = new Int16Array(1024);
  private tgidByPid = new Map<number, number>();
  private n = 0;
  /** Set when more distinct tasks were seen than ids exist; those all map to the last id. */
  overflowed = false;

  constructor(readonly strings: StringTable) {}

  /** The id for (pid, comm, prio). Cheap for the repeated case: one Map lookup on a short key. */
  intern(pid: number, comm: string, prio: number = PRIO_UNKNOWN): number {
    const key = prio === PRIO_UNKNOWN ? `${pid}\u0000${comm}` : `${pid}\u0000${comm}\u0000${prio}`;
    let id = this.keyToId.get(key);
    if (id !== undefined) return id;
    if (this.n >= MAX_TASKS) {
      this.overflowed = true;
      return MAX_TASKS - 1;
    }
    id = this.n++;
    if (id >= this.pids.length) this.grow();
    this.pids[id] = pid;
    this.comms[id] = this.strings.intern(comm);
    this.prios[id] = prio;
    this.keyToId.set(key, id);
    return id;
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
}
