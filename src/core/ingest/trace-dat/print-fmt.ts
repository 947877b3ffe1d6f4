// The `print fmt:` line of an event format file (parsed by print-fmt-parse.ts) evaluated per
// record the way libtraceevent's event-parse.c prints events that no plugin handles. Example:
//   print fmt: "fd: 0x%08lx, vec: 0x%08lx, vlen: 0x%08lx", ((unsigned long)(REC->fd)), ...
// Supported: C expressions over REC->field and REC->array[i] (casts, arithmetic, comparisons, ?:,
// sizeof), __get_str, __get_rel_str, __get_dynamic_array(_len), __get_bitmask, __print_symbolic(_u64),
// __print_flags(_u64), __print_hex(_str), __print_array, the plugins' print functions
// (print-functions.ts) and printf conversions %d %i %u %x %X %o %c %s %p %ps %pS %pf %pF %pI4
// %pI6(c) %pM %ph with flags, width, precision and length. As in libtraceevent, numbers are
// unsigned 64-bit, fields read without sign extension, casts only mask to the type's width, `%s`
// of a pointer-sized field prints the printk string at that address, and names that are not
// fields are 0. A format that does not parse prints as `[FAILED TO PARSE]` and its raw fields
// (import-dat.ts); one that parses but cannot be evaluated on a record, as `field=value` pairs.

import { Conv, Expr, parseConversions, PrintFmt, Unsupported } from './print-fmt-parse';
import { PRINT_FUNCTIONS } from './print-functions';

export type { Conv, Expr, PrintFmt } from './print-fmt-parse';
export { parsePrintFmt } from './print-fmt-parse';

/** What evaluating a print fmt needs from the record and the file. */
export interface EvalContext {
  /** REC->name as libtraceevent reads a number: unsigned, no sign extension; undefined: no such field. */
  num(name: string): bigint | undefined;
  /**
   * REC->name printed with %s (libtraceevent print_str_arg): a char array's or dynamic string's
   * text; for a pointer-sized scalar the printk string at that address or the address in hex.
   */
  str(name: string): string | undefined;
  /** REC->name[i]: an element of an array field. */
  elem(name: string, i: number): bigint | undefined;
  /** The bytes of a dynamic array field (or a fixed array's, for __print_hex and friends). */
  dynArray(name: string): Uint8Array | undefined;
  /** Bits of a `long` on the traced machine. */
  longBits: number;
  /** The traced machine is little-endian. */
  little: boolean;
  /** The kernel symbol containing an address (kallsyms), if known. */
  symbol(addr: bigint): { name: string; addr: bigint } | undefined;
}

type Val = bigint | string;

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

function num(v: Val): bigint {
  if (typeof v === 'bigint') return v;
  throw new Unsupported('string used as a number');
}

/** The field named by __get_str(name) and friends (a bare identifier or REC->name). */
function dynName(e: Expr | undefined): string {
  if (e?.k === 'ident' || e?.k === 'field') return e.name;
  throw new Unsupported('dynamic field name');
}

/** An argument as a number (libtraceevent eval_num_arg). */
function evalNum(e: Expr, cx: EvalContext): bigint {
  switch (e.k) {
    case 'num':
      return U64(e.v);
    case 'str':
      throw new Unsupported('string used as a number');
    case 'ident':
      return 0n;
    case 'field': {
      const v = cx.num(e.name);
      if (v === undefined) throw new Unsupported(`no field ${e.name}`);
      return v;
    }
    case 'index': {
      const v = cx.elem(e.name, Number(evalNum(e.i, cx)));
      if (v === undefined) throw new Unsupported(`no element of ${e.name}`);
      return v;
    }
    case 'cast': {
      const v = evalNum(e.e, cx);
      return e.mask === 0 ? v : BigInt.asUintN(e.mask, v);
    }
    case 'un': {
      const v = evalNum(e.e, cx);
      if (e.op === '!') return v === 0n ? 1n : 0n;
      return e.op === '-' ? U64(-v) : e.op === '~' ? U64(~v) : v;
    }
    case 'cond':
      return evalNum(e.c, cx) !== 0n ? evalNum(e.t, cx) : evalNum(e.f, cx);
    case 'bin': {
      const a = evalNum(e.a, cx);
      const b = evalNum(e.b, cx);
      switch (e.op) {
        // A unary operator rotated into a binary node (see processOp) ignores its left side.
        case '!':
          return b === 0n ? 1n : 0n;
        case '~':
          return U64(~b);
        case '&&':
          return a !== 0n && b !== 0n ? 1n : 0n;
        case '||':
          return a !== 0n || b !== 0n ? 1n : 0n;
        case '|':
          return a | b;
        case '^':
          return a ^ b;
        case '&':
          return a & b;
        case '==':
          return a === b ? 1n : 0n;
        case '!=':
          return a !== b ? 1n : 0n;
        case '<':
          return a < b ? 1n : 0n;
        case '>':
          return a > b ? 1n : 0n;
        case '<=':
          return a <= b ? 1n : 0n;
        case '>=':
          return a >= b ? 1n : 0n;
        case '<<':
          return U64(a << b);
        case '>>':
          return a >> b;
        case '+':
          return U64(a + b);
        case '-':
          return U64(a - b);
        case '*':
          return U64(a * b);
        case '/':
          return b === 0n ? 0n : a / b;
        case '%':
          return b === 0n ? 0n : a % b;
      }
      throw new Unsupported(e.op);
    }
    case 'list':
      throw new Unsupported('brace list outside __print_*');
    case 'call':
      switch (e.name) {
        case '__get_dynamic_array_len':
        case '__get_rel_dynamic_array_len': {
          const b = cx.dynArray(dynName(e.args[0]));
          if (b === undefined) throw new Unsupported('no dynamic array');
          return BigInt(b.length);
        }
        case '__builtin_expect':
          return evalNum(e.args[0]!, cx);
        // Helpers that print text are 0 as numbers (libtraceevent: they have no value).
        default:
          return 0n;
      }
  }
}

/** An argument printed with %s (libtraceevent print_str_arg). */
function evalStr(e: Expr, cx: EvalContext): string {
  switch (e.k) {
    case 'str':
      return e.v;
    case 'field': {
      const v = cx.str(e.name);
      if (v === undefined) throw new Unsupported(`no field ${e.name}`);
      return v;
    }
    case 'cond':
      return evalNum(e.c, cx) !== 0n ? evalStr(e.t, cx) : evalStr(e.f, cx);
    case 'cast':
      return '';
    case 'call':
      return evalCall(e.name, e.args, cx);
    default:
      throw new Unsupported(`%s of ${e.k}`);
  }
}

/** Names libtraceevent knows in flag and symbol tables (event-parse.c `flags[]`). */
const KNOWN_FLAGS: Record<string, bigint> = {
  HI_SOFTIRQ: 0n,
  TIMER_SOFTIRQ: 1n,
  NET_TX_SOFTIRQ: 2n,
  NET_RX_SOFTIRQ: 3n,
  BLOCK_SOFTIRQ: 4n,
  IRQ_POLL_SOFTIRQ: 5n,
  TASKLET_SOFTIRQ: 6n,
  SCHED_SOFTIRQ: 7n,
  HRTIMER_SOFTIRQ: 8n,
  RCU_SOFTIRQ: 9n,
  HRTIMER_NORESTART: 0n,
  HRTIMER_RESTART: 1n,
};

/** A flag or symbol table entry's value (libtraceevent eval_flag): an unknown bare name is -1. */
function flagValue(e: Expr, cx: EvalContext): bigint {
  if (e.k === 'ident') return KNOWN_FLAGS[e.name] ?? -1n;
  return BigInt.asIntN(64, evalNum(e, cx));
}

function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

function evalCall(name: string, args: Expr[], cx: EvalContext): string {
  switch (name) {
    case '__get_str':
    case '__get_rel_str': {
      const v = cx.str(dynName(args[0]));
      if (v === undefined) throw new Unsupported('__get_str of a non-string');
      return v;
    }
    case '__get_dynamic_array':
    case '__get_rel_dynamic_array': {
      const b = cx.dynArray(dynName(args[0]));
      if (b === undefined) throw new Unsupported('no dynamic array');
      let s = '';
      for (const x of b) {
        if (x === 0) break;
        s += String.fromCharCode(x);
      }
      return s;
    }
    case '__print_symbolic':
    case '__print_symbolic_u64': {
      const v = evalNum(args[0]!, cx);
      for (const a of args.slice(1)) {
        if (a.k !== 'list' || a.items.length !== 2) throw new Unsupported('symbol table');
        if (U64(flagValue(a.items[0]!, cx)) === v) return evalStr(a.items[1]!, cx);
      }
      return hex(v);
    }
    case '__print_flags':
    case '__print_flags_u64': {
      // libtraceevent: flags of 0 never print, one it cannot evaluate (-1) prints for a 0
      // value; bits left over print in hex.
      let v = evalNum(args[0]!, cx);
      const delim = evalStr(args[1]!, cx);
      let out = '';
      let printed = false;
      for (const a of args.slice(2)) {
        if (a.k !== 'list' || a.items.length !== 2) throw new Unsupported('flag table');
        const f = flagValue(a.items[0]!, cx);
        if (v === 0n && f < 0n) {
          out += evalStr(a.items[1]!, cx);
          break;
        }
        if (f > 0n && (v & f) === f) {
          if (printed) out += delim;
          out += evalStr(a.items[1]!, cx);
          printed = true;
          v &= ~f;
        }
      }
      if (v !== 0n) out += (printed ? delim : '') + hex(v);
      return out;
    }
    case '__print_hex':
    case '__print_hex_str': {
      const b = arrayBytes(args[0], cx);
      const n = Number(evalNum(args[1]!, cx));
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push((b[i] ?? 0).toString(16).padStart(2, '0'));
      return parts.join(name === '__print_hex' ? ' ' : '');
    }
    case '__print_array': {
      const b = arrayBytes(args[0], cx);
      const n = Number(evalNum(args[1]!, cx));
      const size = Number(evalNum(args[2]!, cx));
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const parts: string[] = [];
      for (let i = 0; i < n && (i + 1) * size <= b.length; i++) {
        const at = i * size;
        const v =
          size === 1
            ? BigInt(dv.getUint8(at))
            : size === 2
              ? BigInt(dv.getUint16(at, true))
              : size === 4
                ? BigInt(dv.getUint32(at, true))
                : dv.getBigUint64(at, true);
        parts.push(hex(v));
      }
      return `{${parts.join(',')}}`;
    }
    case '__get_bitmask':
    case '__get_rel_bitmask':
      return bitmask(cx.dynArray(dynName(args[0])), cx.longBits);
  }
  const pf = PRINT_FUNCTIONS[name];
  if (pf !== undefined) {
    const arrays: Uint8Array[] = [];
    const nums: bigint[] = [];
    args.forEach((a, i) => {
      if (pf.arrays.includes(i)) arrays.push(arrayBytes(a, cx));
      else nums[i] = a.k === 'ident' ? 0n : evalNum(a, cx);
    });
    const out = pf.run(arrays, nums);
    if (out === undefined) throw new Unsupported(`${name} of these arguments`);
    return out;
  }
  throw new Unsupported(name);
}

function arrayBytes(e: Expr | undefined, cx: EvalContext): Uint8Array {
  const target = e?.k === 'call' && e.name.startsWith('__get_') ? e.args[0] : e;
  const b = cx.dynArray(dynName(target));
  if (b === undefined) throw new Unsupported('no array');
  return b;
}

/** libtraceevent print_bitmask_to_seq: 32-bit words, most significant first, comma separated. */
function bitmask(b: Uint8Array | undefined, longBits: number): string {
  if (b === undefined) throw new Unsupported('no bitmask');
  const words: string[] = [];
  const step = 4;
  for (let at = b.length - step; at >= 0 - (b.length % step === 0 ? 0 : step); at -= step) {
    let w = 0;
    for (let k = step - 1; k >= 0; k--) w = w * 256 + (b[at + k] ?? 0);
    words.push(words.length === 0 ? w.toString(16) : w.toString(16).padStart(8, '0'));
  }
  void longBits;
  return words.join(',');
}

function pad(s: string, c: Conv, width: number, zeroOk: boolean): string {
  if (width <= s.length) return s;
  if (c.flags.includes('-')) return s.padEnd(width);
  if (zeroOk && c.flags.includes('0')) {
    const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
    const pre = /^[-+]?0[xX]/.test(s) ? s.slice(0, sign.length + 2) : sign;
    return pre + s.slice(pre.length).padStart(width - pre.length, '0');
  }
  return s.padStart(width);
}

/** Bits a length modifier gives an integer conversion: libtraceevent prints through the host's C types. */
function intBits(len: string): number {
  switch (len) {
    case 'hh':
      return 8;
    case 'h':
      return 16;
    case 'l':
    case 'z':
    case 'll':
    case 'L':
      return 64;
    default:
      return 32;
  }
}

/** %ps / %pS / %pf / %pF: the symbol (with +offset for the capitals), else the address. */
export function symbolText(a: bigint, ext: string, cx: EvalContext): string {
  const sym = cx.symbol(a);
  if (sym === undefined) return hex(a);
  return ext === 'S' || ext === 'F' ? `${sym.name}+${hex(a - sym.addr)}` : sym.name;
}

/** One conversion of a value already evaluated (a number, or the text for %s). */
export function formatValue(c: Conv, v: Val, width: number, cx: EvalContext): string {
  switch (c.conv) {
    case 's': {
      let s = typeof v === 'string' ? v : v.toString();
      if (c.prec >= 0) s = s.slice(0, c.prec);
      return pad(s, c, width, false);
    }
    case 'c':
      return pad(String.fromCharCode(Number(BigInt.asUintN(8, num(v)))), c, width, false);
    case 'p': {
      if (typeof v === 'string') return v;
      const a = U64(v);
      if (c.pext === 's' || c.pext === 'S' || c.pext === 'f' || c.pext === 'F')
        return pad(symbolText(a, c.pext, cx), c, width, false);
      // glibc's %p.
      return pad(a === 0n ? '(nil)' : hex(a), c, width, false);
    }
    default: {
      const bits = intBits(c.len);
      const n = num(v);
      let digits: string;
      let neg = false;
      if (c.conv === 'd' || c.conv === 'i') {
        const s = BigInt.asIntN(bits, n);
        neg = s < 0n;
        digits = (neg ? -s : s).toString();
      } else {
        const u = BigInt.asUintN(bits, n);
        digits = u.toString(c.conv === 'o' ? 8 : c.conv === 'u' ? 10 : 16);
        if (c.conv === 'X') digits = digits.toUpperCase();
      }
      if (c.prec >= 0) digits = c.prec === 0 && n === 0n ? '' : digits.padStart(c.prec, '0');
      let pre = neg ? '-' : c.flags.includes('+') ? '+' : c.flags.includes(' ') ? ' ' : '';
      if (c.flags.includes('#') && BigInt.asUintN(bits, n) !== 0n) {
        if (c.conv === 'x') pre += '0x';
        else if (c.conv === 'X') pre += '0X';
        else if (c.conv === 'o') pre += '0';
      }
      return pad(pre + digits, c, width, c.prec < 0);
    }
  }
}

/** The bytes of the field an address conversion prints (through casts), or undefined. */
function fieldBytes(e: Expr, cx: EvalContext): Uint8Array | undefined {
  let x = e;
  while (x.k === 'cast') x = x.e;
  return x.k === 'field' ? cx.dynArray(x.name) : undefined;
}

const byte2 = (v: number): string => v.toString(16).padStart(2, '0');

/** libtraceevent print_ip6c_addr: RFC 5952 with the longest run of 0 words as `::`. */
function ip6c(b: Uint8Array): string {
  const w = (i: number): number => (b[2 * i]! << 8) | b[2 * i + 1]!;
  const v4mapped =
    w(0) === 0 && w(1) === 0 && w(2) === 0 && w(3) === 0 && w(4) === 0 && w(5) === 0xffff;
  const isatap = (w(4) | 0x0200) === 0x0200 && w(5) === 0x5efe;
  const useV4 = v4mapped || isatap;
  const range = useV4 ? 6 : 8;
  let longest = 1;
  let colonpos = -1;
  for (let i = 0; i < range; i++) {
    let n = 0;
    for (let j = i; j < range && w(j) === 0; j++) n++;
    if (n > longest) {
      longest = n;
      colonpos = i;
    }
  }
  let out = '';
  let needColon = false;
  for (let i = 0; i < range; i++) {
    if (i === colonpos) {
      if (needColon || i === 0) out += ':';
      out += ':';
      needColon = false;
      i += longest - 1;
      continue;
    }
    if (needColon) out += ':';
    out += w(i).toString(16);
    needColon = true;
  }
  if (useV4) out += (needColon ? ':' : '') + Array.from(b.subarray(12, 16)).join('.');
  return out;
}

/** %pI4 %pi4 %pI6 %pi6 %pI6c %pM %pm: a field's bytes as an address (libtraceevent print_ip*_arg, print_mac_arg). */
function addressText(ext: string, e: Expr, cx: EvalContext): string {
  const b = fieldBytes(e, cx);
  if (b === undefined) throw new Unsupported(`%p${ext} of a non-field`);
  const kind = ext[0]!;
  if (kind === 'M' || kind === 'm') {
    if (b.length !== 6) return 'INVALIDMAC';
    const bytes = Array.from(ext[1] === 'R' ? b.slice().reverse() : b, byte2);
    return bytes.join(kind === 'm' ? '' : ext[1] === 'F' ? '-' : ':');
  }
  if (ext[1] === '4') {
    if (b.length !== 4) return 'INVALIDIPv4';
    // parse_ip4_print_args: `l` reverses, `h` (host order) reverses on a little-endian file.
    const rev = ext[2] === 'l' || (ext[2] === 'h' && cx.little);
    const bytes = rev ? Array.from(b).reverse() : Array.from(b);
    return bytes.map((x) => (kind === 'i' ? String(x).padStart(3, '0') : String(x))).join('.');
  }
  if (b.length !== 16) return 'INVALIDIPv6';
  if (ext === 'I6c') return ip6c(b);
  const words: string[] = [];
  for (let j = 0; j < 16; j += 2) words.push(byte2(b[j]!) + byte2(b[j + 1]!));
  return words.join(kind === 'I' ? ':' : '');
}

/** libtraceevent's tep_print_arg_type of an argument (what its error messages print). */
function argType(e: Expr): number {
  switch (e.k) {
    case 'num':
    case 'str':
    case 'ident':
      return 1;
    case 'field':
      return 2;
    case 'cast':
      return 7;
    case 'call': {
      const types: Record<string, number> = {
        __print_flags: 3,
        __print_flags_u64: 3,
        __print_symbolic: 4,
        __print_symbolic_u64: 4,
        __print_hex: 5,
        __print_array: 6,
        __get_str: 8,
        __get_rel_str: 8,
        __get_dynamic_array: 10,
        __get_rel_dynamic_array: 10,
        __get_bitmask: 13,
        __get_rel_bitmask: 13,
        __get_dynamic_array_len: 14,
        __get_rel_dynamic_array_len: 14,
        __print_hex_str: 15,
      };
      return types[e.name] ?? 12;
    }
    default:
      return 11;
  }
}

/** %*ph (print_raw_buff_arg): up to `width` bytes of a dynamic array, in hex. */
function rawBuffer(ext: string, e: Expr, width: number, cx: EvalContext): string {
  if (e.k !== 'call' || (e.name !== '__get_dynamic_array' && e.name !== '__get_rel_dynamic_array'))
    return `ARG TYPE NOT FIELD BUT ${argType(e)}`;
  const b = cx.dynArray(dynName(e.args[0]));
  if (b === undefined) throw new Unsupported('no dynamic array');
  const n = Math.min(width < 0 ? 0 : width, b.length);
  const delim = ext[1] === 'C' ? ':' : ext[1] === 'D' ? '-' : ext[1] === 'N' ? '' : ' ';
  return Array.from(b.subarray(0, n), byte2).join(delim);
}

/** The event's text as libtraceevent prints it; undefined when the format cannot be evaluated. */
export function formatPrint(pf: PrintFmt, cx: EvalContext): string | undefined {
  try {
    let out = '';
    let ai = 0;
    for (const c of pf.convs) {
      out += c.lit;
      let width = -1;
      if (c.width === 'arg') {
        const w = pf.args[ai++];
        if (w === undefined) return undefined;
        width = Number(BigInt.asIntN(32, evalNum(w, cx)));
      } else width = c.width;
      const a = pf.args[ai++];
      if (a === undefined) return undefined;
      if (c.conv === 'p' && /^[IiMm]/.test(c.pext)) {
        out += addressText(c.pext, a, cx);
        continue;
      }
      if (c.conv === 'p' && c.pext[0] === 'h') {
        out += rawBuffer(c.pext, a, width, cx);
        continue;
      }
      const v = c.conv === 's' ? evalStr(a, cx) : evalNum(a, cx);
      out += formatValue(c, v, width, cx);
    }
    return out + pf.tail;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/** The conversions of a printf format (for bprint, whose format is in the printk table). */
export function parseFormat(fmt: string): { convs: Conv[]; tail: string } | undefined {
  try {
    return parseConversions(fmt);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
