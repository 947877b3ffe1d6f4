// The record the .dat decoder is decoding and its fields read as libtraceevent reads them (the
// print fmt evaluator's and the plugins' REC->field): the base of decoder.ts's DatDecoder.

import { text } from './bytes';
import type { DatFile } from './file';
import type { EventFormat, Field } from './format';

export class RecordReader {
  // The record being decoded (for the print fmt evaluator).
  protected rb: Uint8Array = new Uint8Array(0);
  protected rdv: DataView = new DataView(new ArrayBuffer(0));
  protected rs = 0;
  protected rl = 0;
  protected readonly little: boolean;
  protected curFmt: EventFormat | undefined;

  constructor(protected readonly f: DatFile) {
    this.little = f.little;
  }

  protected int(f: Field): number {
    const dv = this.rdv;
    const at = this.rs + f.offset;
    if (f.offset + f.size > this.rl) return NaN;
    switch (f.size) {
      case 1:
        return f.signed ? dv.getInt8(at) : dv.getUint8(at);
      case 2:
        return f.signed ? dv.getInt16(at, this.little) : dv.getUint16(at, this.little);
      case 4:
        return f.signed ? dv.getInt32(at, this.little) : dv.getUint32(at, this.little);
      case 8: {
        const lo = dv.getUint32(at + (this.little ? 0 : 4), this.little);
        const hi = this.little ? dv.getInt32(at + 4, true) : dv.getInt32(at, false);
        return f.signed || hi >= 0 ? hi * 4294967296 + lo : (hi >>> 0) * 4294967296 + lo;
      }
      default:
        return NaN;
    }
  }

  private big(f: Field): bigint {
    const dv = this.rdv;
    const at = this.rs + f.offset;
    switch (f.size) {
      case 1:
        return BigInt(f.signed ? dv.getInt8(at) : dv.getUint8(at));
      case 2:
        return BigInt(f.signed ? dv.getInt16(at, this.little) : dv.getUint16(at, this.little));
      case 4:
        return BigInt(f.signed ? dv.getInt32(at, this.little) : dv.getUint32(at, this.little));
      case 8:
        return f.signed ? dv.getBigInt64(at, this.little) : dv.getBigUint64(at, this.little);
      default:
        return 0n;
    }
  }

  /** A char array's text up to its NUL; `size 0` arrays (`char buf[]`) run to the record's end. */
  protected str(off: number, len: number): string {
    const b = this.rb;
    const start = this.rs + off;
    const end = Math.min(start + len, this.rs + this.rl);
    let e = start;
    let ascii = true;
    while (e < end && b[e] !== 0) {
      if (b[e]! >= 0x80) ascii = false;
      e++;
    }
    if (!ascii) return text(b, start, e);
    let s = '';
    for (let i = start; i < e; i++) s += String.fromCharCode(b[i]!);
    return s;
  }

  protected dynRange(f: Field): [number, number] | undefined {
    if (f.offset + 4 > this.rl) return undefined;
    const v = this.rdv.getUint32(this.rs + f.offset, this.little);
    let off = v & 0xffff;
    const len = v >>> 16;
    if (f.dynamic === 'rel_loc') off += f.offset + f.size;
    if (off + len > this.rl) return undefined;
    return [off, len];
  }

  /** A field's bytes read as libtraceevent reads a number: unsigned, no sign extension. */
  protected fieldNum(name: string): bigint | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined || f.dynamic !== 'none' || f.arrayLen !== 0) return undefined;
    if (f.offset + f.size > this.rl) return 0n; // libtraceevent: past the record reads as 0
    return this.unsigned(this.rs + f.offset, f.size);
  }

  protected unsigned(at: number, size: number): bigint {
    const dv = this.rdv;
    switch (size) {
      case 1:
        return BigInt(dv.getUint8(at));
      case 2:
        return BigInt(dv.getUint16(at, this.little));
      case 4:
        return BigInt(dv.getUint32(at, this.little));
      case 8:
        return dv.getBigUint64(at, this.little);
      default:
        return 0n;
    }
  }

  /** REC->name[i] of a fixed array field. */
  protected fieldElem(name: string, i: number): bigint | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined || f.arrayLen <= 0) return undefined;
    const es = f.size / f.arrayLen;
    const off = f.offset + i * es;
    if (off + es > this.rl || !Number.isInteger(es)) return 0n;
    return this.unsigned(this.rs + off, es);
  }

  /** REC->name printed with %s, as libtraceevent's print_str_arg does. */
  protected fieldStr(name: string): string | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined || f.offset > this.rl) return undefined;
    if (f.dynamic !== 'none') {
      const r = this.dynRange(f);
      if (r === undefined) return undefined;
      return this.str(r[0], r[1]);
    }
    // A pointer-sized scalar: the constant string at that address (printk_formats), else hex.
    if (f.arrayLen === 0 && f.size === this.f.longSize) {
      const v = this.fieldNum(name) ?? 0n;
      return this.f.printk(v) ?? v.toString(16);
    }
    // Zero-sized fields (`char buf;`, `char buf[]`) run to the record's end.
    return this.str(f.offset, f.size === 0 ? this.rl - f.offset : f.size);
  }

  /** A field as libtraceevent's print_field_raw prints it. */
  protected rawField(fl: Field): string {
    if (fl.arrayLen !== 0) {
      let off = fl.offset;
      let len = fl.size;
      if (fl.dynamic !== 'none') {
        const r = this.dynRange(fl);
        if (r === undefined) return '';
        [off, len] = r;
      }
      const b = this.rb.subarray(this.rs + off, this.rs + Math.min(off + len, this.rl));
      if (/char|u8|s8/.test(fl.type) && printableArray(b)) return this.str(off, len);
      return `ARRAY[${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(', ')}]`;
    }
    const v = this.fieldNum(fl.name) ?? 0n;
    const isLong = /long/.test(fl.type);
    if (fl.type.includes('*')) return '0x' + v.toString(16);
    if (fl.signed) {
      switch (fl.size) {
        case 4:
          return isLong ? '0x' + BigInt.asUintN(32, v).toString(16) : String(BigInt.asIntN(32, v));
        case 2:
          return String(BigInt.asIntN(16, v)).padStart(2);
        case 1:
          return String(BigInt.asIntN(8, v));
        default:
          return String(BigInt.asIntN(64, v));
      }
    }
    return isLong ? '0x' + v.toString(16) : v.toString();
  }

  /** The record's bytes from a field's offset to its end (bprint's `buf`, kernel_stack's `caller`). */
  protected rest(name: string): Uint8Array | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined || f.offset > this.rl) return undefined;
    return this.rb.subarray(this.rs + f.offset, this.rs + this.rl);
  }

  protected dynArray(name: string): Uint8Array | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined) return undefined;
    if (f.dynamic === 'none') {
      if (f.offset + f.size > this.rl) return undefined;
      return this.rb.subarray(this.rs + f.offset, this.rs + f.offset + f.size);
    }
    const r = this.dynRange(f);
    return r === undefined ? undefined : this.rb.subarray(this.rs + r[0], this.rs + r[0] + r[1]);
  }

  protected hex(): string {
    let s = '';
    for (let i = 0; i < this.rl; i++) s += this.rb[this.rs + i]!.toString(16).padStart(2, '0');
    return s;
  }
}

/** libtraceevent is_printable_array: printable characters up to a NUL. */
function printableArray(b: Uint8Array): boolean {
  for (const c of b) {
    if (c === 0) return true;
    if (c < 0x20 || c > 0x7e) return /[\t\n\r]/.test(String.fromCharCode(c));
  }
  return true;
}
