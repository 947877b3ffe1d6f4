// Interned strings: comms, event names, states and other short repeated text share one id each,
// so columns hold small integers instead of per-event strings.

import { detach } from './text-pool';

export class StringTable {
  private readonly ids = new Map<string, number>();
  private readonly values: string[] = [];

  /** The id of `s`, adding it on first sight. */
  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      const own = detach(s);
      id = this.values.length;
      this.values.push(own);
      this.ids.set(own, id);
    }
    return id;
  }

  /** The id of `s`, or -1 if it was never interned. */
  lookup(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  get(id: number): string {
    const v = this.values[id];
    if (v === undefined)
      throw new RangeError(`string id ${id} out of range (${this.values.length})`);
    return v;
  }

  get size(): number {
    return this.values.length;
  }

  /** Approximate bytes held (UTF-16 payload + per-entry overhead), for memory reports. */
  approxBytes(): number {
    let n = 0;
    for (const v of this.values) n += 2 * v.length + 64;
    return n;
  }

  /** The strings in id order (for moving a table to another thread). */
  snapshot(): string[] {
    return this.values.slice();
  }

  static restore(values: readonly string[]): StringTable {
    const t = new StringTable();
    for (const v of values) t.intern(v);
    return t;
  }
}
