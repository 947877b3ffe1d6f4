// The `print fmt:` line of an event format file, parsed once and evaluated per record the way
// libtraceevent's event-parse.c prints events that no plugin handles. Example (syscalls):
//   print fmt: "fd: 0x%08lx, vec: 0x%08lx, vlen: 0x%08lx", ((unsigned long)(REC->fd)), ...
// Supported: C expressions over REC->field (casts, arithmetic, comparisons, ?:), __get_str,
// __get_rel_str, __get_dynamic_array(_len), __print_symbolic(_u64), __print_flags(_u64) and printf
// conversions %d %i %u %x %X %o %c %s %p %ps %pS %pf %pF with flags, width, precision and length.
// Anything else makes the format "unsupported": such events print as `field=value` pairs.

/** A parsed expression. */
export type Expr =
  | { k: 'num'; v: bigint }
  | { k: 'str'; v: string }
  | { k: 'field'; name: string }
  | { k: 'cast'; bits: number; signed: boolean; e: Expr }
  | { k: 'un'; op: string; e: Expr }
  | { k: 'bin'; op: string; a: Expr; b: Expr }
  | { k: 'cond'; c: Expr; t: Expr; f: Expr }
  | { k: 'call'; name: string; args: Expr[] }
  | { k: 'list'; items: Expr[] };

export interface Conv {
  /** Literal text before this conversion. */
  lit: string;
  flags: string;
  width: number | 'arg' | -1;
  prec: number | -1;
  /** '', 'h', 'hh', 'l', 'll', 'z'. */
  len: string;
  conv: string;
  /** For %p: the extension letter (`s`, `S`, `f`, `F`) or ''. */
  pext: string;
}

export interface PrintFmt {
  convs: Conv[];
  /** Literal text after the last conversion. */
  tail: string;
  args: Expr[];
}

class Unsupported extends Error {}

/** Parses a print fmt; undefined when it uses something this evaluator does not know. */
export function parsePrintFmt(src: string): PrintFmt | undefined {
  try {
    const toks = tokenize(src);
    const p = new Parser(toks);
    const fmt = p.strings();
    const args: Expr[] = [];
    while (p.peek() === ',') {
      p.next();
      args.push(p.expr());
    }
    if (p.i < toks.length) throw new Unsupported('trailing tokens');
    const { convs, tail } = parseConversions(fmt);
    return { convs, tail, args };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

function parseConversions(fmt: string): { convs: Conv[]; tail: string } {
  const convs: Conv[] = [];
  let lit = '';
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i]!;
    if (c !== '%') {
      lit += c;
      i++;
      continue;
    }
    if (fmt[i + 1] === '%') {
      lit += '%';
      i += 2;
      continue;
    }
    const m = /^%([-+ #0]*)(\*|\d+)?(?:\.(\d+))?(hh|h|ll|l|z|L)?([diouxXcsp])/.exec(fmt.slice(i));
    if (!m) throw new Unsupported(`conversion at ${i}`);
    i += m[0].length;
    let pext = '';
    if (m[5] === 'p' && /[sSfFBxXK]/.test(fmt[i] ?? '')) {
      pext = fmt[i]!;
      i++;
    }
    convs.push({
      lit,
      flags: m[1]!,
      width: m[2] === '*' ? 'arg' : m[2] !== undefined ? Number(m[2]) : -1,
      prec: m[3] !== undefined ? Number(m[3]) : -1,
      len: m[4] ?? '',
      conv: m[5]!,
      pext,
    });
    lit = '';
  }
  return { convs, tail: lit };
}

type Tok = string | { s: string } | { n: bigint };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\') {
          const e = src[i + 1] ?? '';
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e;
          i += 2;
        } else s += src[i++];
      }
      if (i >= src.length) throw new Unsupported('unterminated string');
      i++;
      out.push({ s });
    } else if (c === "'") {
      const m = /^'(\\?.)'/.exec(src.slice(i));
      if (!m) throw new Unsupported('char literal');
      const ch =
        m[1]!.length === 2
          ? (({ n: '\n', t: '\t', '0': '\0' } as Record<string, string>)[m[1]![1]!] ?? m[1]![1]!)
          : m[1]!;
      out.push({ n: BigInt(ch.charCodeAt(0)) });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*/.exec(src.slice(i))!;
      out.push({ n: BigInt(m[1]!) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_]\w*/.exec(src.slice(i))!;
      out.push(m[0]);
      i += m[0].length;
    } else {
      const three = src.slice(i, i + 2);
      if (['->', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||'].includes(three)) {
        out.push(three);
        i += 2;
      } else {
        out.push(c);
        i++;
      }
    }
  }
  return out;
}

const TYPE_WORDS = new Set([
  'unsigned',
  'signed',
  'int',
  'long',
  'short',
  'char',
  'void',
  'bool',
  '_Bool',
  'const',
  'volatile',
  'struct',
  'u8',
  'u16',
  'u32',
  'u64',
  's8',
  's16',
  's32',
  's64',
  '__u8',
  '__u16',
  '__u32',
  '__u64',
  '__s8',
  '__s16',
  '__s32',
  '__s64',
  'size_t',
  'pid_t',
  'gfp_t',
  'loff_t',
]);

const BIN_PREC: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '|': 3,
  '^': 4,
  '&': 5,
  '==': 6,
  '!=': 6,
  '<': 7,
  '>': 7,
  '<=': 7,
  '>=': 7,
  '<<': 8,
  '>>': 8,
  '+': 9,
  '-': 9,
  '*': 10,
  '/': 10,
  '%': 10,
};

class Parser {
  i = 0;
  constructor(readonly t: Tok[]) {}

  peek(at = 0): Tok | undefined {
    return this.t[this.i + at];
  }

  next(): Tok {
    const v = this.t[this.i++];
    if (v === undefined) throw new Unsupported('unexpected end');
    return v;
  }

  eat(s: string): void {
    if (this.next() !== s) throw new Unsupported(`expected ${s}`);
  }

  strings(): string {
    let s = '';
    let any = false;
    for (let t = this.peek(); typeof t === 'object' && 's' in t; t = this.peek()) {
      s += t.s;
      any = true;
      this.i++;
    }
    if (!any) throw new Unsupported('no format string');
    return s;
  }

  expr(): Expr {
    const c = this.binary(1);
    if (this.peek() === '?') {
      this.next();
      const t = this.expr();
      this.eat(':');
      const f = this.expr();
      return { k: 'cond', c, t, f };
    }
    return c;
  }

  binary(min: number): Expr {
    let a = this.unary();
    for (;;) {
      const op = this.peek();
      if (typeof op !== 'string') return a;
      const p = BIN_PREC[op];
      if (p === undefined || p < min) return a;
      this.next();
      const b = this.binary(p + 1);
      a = { k: 'bin', op, a, b };
    }
  }

  unary(): Expr {
    const t = this.peek();
    if (t === '-' || t === '!' || t === '~' || t === '+') {
      this.next();
      return { k: 'un', op: t, e: this.unary() };
    }
    if (t === '&' || t === '*') throw new Unsupported('address-of / dereference');
    if (t === '(' && this.isCast()) {
      this.next();
      const words: string[] = [];
      while (this.peek() !== ')') words.push(this.next() as string);
      this.next();
      return { k: 'cast', ...castOf(words), e: this.unary() };
    }
    return this.postfix();
  }

  isCast(): boolean {
    let j = 1;
    const first = this.peek(j);
    if (typeof first !== 'string' || !(TYPE_WORDS.has(first) || /_t$/.test(first))) return false;
    for (let t = this.peek(j); t !== ')'; t = this.peek(++j)) {
      if (t === undefined) return false;
      if (typeof t !== 'string' || !(t === '*' || /^[A-Za-z_]\w*$/.test(t))) return false;
    }
    return true;
  }

  postfix(): Expr {
    let e = this.primary();
    for (;;) {
      const t = this.peek();
      if (t === '->' || t === '.') {
        this.next();
        const name = this.next();
        if (typeof name !== 'string') throw new Unsupported('member');
        if (e.k === 'str' && e.v === '\u0000REC') e = { k: 'field', name };
        else throw new Unsupported('member of non-record');
      } else if (t === '[') throw new Unsupported('indexing');
      else return e;
    }
  }

  primary(): Expr {
    const t = this.next();
    if (typeof t === 'object') {
      if ('n' in t) return { k: 'num', v: t.n };
      let s = t.s;
      for (let u = this.peek(); typeof u === 'object' && 's' in u; u = this.peek()) {
        s += u.s;
        this.i++;
      }
      return { k: 'str', v: s };
    }
    if (t === '(') {
      const e = this.expr();
      this.eat(')');
      return e;
    }
    if (t === '{') {
      const items: Expr[] = [];
      while (this.peek() !== '}') {
        items.push(this.expr());
        if (this.peek() === ',') this.next();
      }
      this.next();
      return { k: 'list', items };
    }
    if (t === 'REC') return { k: 'str', v: '\u0000REC' };
    if (/^[A-Za-z_]\w*$/.test(t) && this.peek() === '(') {
      this.next();
      const args: Expr[] = [];
      while (this.peek() !== ')') {
        args.push(this.expr());
        if (this.peek() === ',') this.next();
        else if (this.peek() !== ')') throw new Unsupported('call arguments');
      }
      this.next();
      if (!KNOWN_CALLS.has(t)) throw new Unsupported(`function ${t}`);
      return { k: 'call', name: t, args };
    }
    // A bare name: the argument of __get_str(name) and friends.
    if (/^[A-Za-z_]\w*$/.test(t)) return { k: 'field', name: t };
    throw new Unsupported(`token ${t}`);
  }
}

const KNOWN_CALLS = new Set([
  '__get_str',
  '__get_rel_str',
  '__get_dynamic_array',
  '__get_rel_dynamic_array',
  '__get_dynamic_array_len',
  '__get_rel_dynamic_array_len',
  '__print_symbolic',
  '__print_symbolic_u64',
  '__print_flags',
  '__print_flags_u64',
]);

function castOf(words: string[]): { bits: number; signed: boolean } {
  if (words.includes('*')) return { bits: -1, signed: false }; // pointer: long-sized
  const w = words.filter((x) => x !== 'const' && x !== 'volatile');
  const signed = !w.includes('unsigned') && !/^(__)?u\d+$/.test(w[0] ?? '') && w[0] !== 'bool';
  const t = w.filter((x) => x !== 'unsigned' && x !== 'signed').join(' ');
  const m = /^(?:__)?[us](\d+)$/.exec(t);
  if (m) return { bits: Number(m[1]), signed };
  switch (t) {
    case 'char':
      return { bits: 8, signed };
    case 'short':
    case 'short int':
      return { bits: 16, signed };
    case '':
    case 'int':
      return { bits: 32, signed };
    case 'long':
    case 'long int':
    case 'size_t':
      return { bits: -1, signed: t === 'size_t' ? false : signed };
    case 'long long':
    case 'long long int':
      return { bits: 64, signed };
    case 'bool':
    case '_Bool':
      return { bits: 1, signed: false };
    default:
      return { bits: 64, signed }; // typedefs we do not know: leave the value alone
  }
}

/** What evaluating a print fmt needs from the record and the file. */
export interface EvalContext {
  /** REC->name: a number, or text for char arrays and strings; undefined when there is no such field. */
  field(name: string): bigint | string | undefined;
  /** The bytes of a dynamic array field. */
  dynArray(name: string): Uint8Array | undefined;
  /** Bits of a `long` on the traced machine. */
  longBits: number;
  /** The kernel symbol containing an address (kallsyms), if known. */
  symbol(addr: bigint): { name: string; addr: bigint } | undefined;
}

type Val = bigint | string;

function num(v: Val): bigint {
  if (typeof v === 'bigint') return v;
  throw new Unsupported('string used as a number');
}

function truthy(v: Val): boolean {
  return typeof v === 'string' ? true : v !== 0n;
}

function evalExpr(e: Expr, cx: EvalContext): Val {
  switch (e.k) {
    case 'num':
    case 'str':
      return e.v;
    case 'field': {
      const v = cx.field(e.name);
      if (v === undefined) throw new Unsupported(`no field ${e.name}`);
      return v;
    }
    case 'cast': {
      const v = evalExpr(e.e, cx);
      if (typeof v === 'string') return v;
      const bits = e.bits < 0 ? cx.longBits : e.bits;
      if (bits === 1) return v !== 0n ? 1n : 0n;
      return e.signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
    }
    case 'un': {
      const v = evalExpr(e.e, cx);
      if (e.op === '!') return truthy(v) ? 0n : 1n;
      const n = num(v);
      return e.op === '-' ? -n : e.op === '~' ? ~n : n;
    }
    case 'cond':
      return truthy(evalExpr(e.c, cx)) ? evalExpr(e.t, cx) : evalExpr(e.f, cx);
    case 'bin': {
      if (e.op === '&&') return truthy(evalExpr(e.a, cx)) && truthy(evalExpr(e.b, cx)) ? 1n : 0n;
      if (e.op === '||') return truthy(evalExpr(e.a, cx)) || truthy(evalExpr(e.b, cx)) ? 1n : 0n;
      const a = num(evalExpr(e.a, cx));
      const b = num(evalExpr(e.b, cx));
      switch (e.op) {
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
          return BigInt.asUintN(64, a << b);
        case '>>':
          return a >> b;
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
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
      return evalCall(e.name, e.args, cx);
  }
}

/** The field named by __get_str(name) and friends (a bare identifier, parsed as a field). */
function dynName(e: Expr | undefined): string {
  if (e?.k === 'field') return e.name;
  throw new Unsupported('dynamic field name');
}

function evalCall(name: string, args: Expr[], cx: EvalContext): Val {
  switch (name) {
    case '__get_str':
    case '__get_rel_str': {
      const v = cx.field(dynName(args[0]));
      if (typeof v !== 'string') throw new Unsupported('__get_str of a non-string');
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
    case '__get_dynamic_array_len':
    case '__get_rel_dynamic_array_len': {
      const b = cx.dynArray(dynName(args[0]));
      if (b === undefined) throw new Unsupported('no dynamic array');
      return BigInt(b.length);
    }
    case '__print_symbolic':
    case '__print_symbolic_u64': {
      const v = num(evalExpr(args[0]!, cx));
      for (const a of args.slice(1)) {
        if (a.k !== 'list' || a.items.length !== 2) throw new Unsupported('symbol table');
        if (num(evalExpr(a.items[0]!, cx)) === v) return String(evalExpr(a.items[1]!, cx));
      }
      return '0x' + BigInt.asUintN(64, v).toString(16);
    }
    case '__print_flags':
    case '__print_flags_u64': {
      let v = num(evalExpr(args[0]!, cx));
      const delim = String(evalExpr(args[1]!, cx));
      const parts: string[] = [];
      for (const a of args.slice(2)) {
        if (a.k !== 'list' || a.items.length !== 2) throw new Unsupported('flag table');
        const f = num(evalExpr(a.items[0]!, cx));
        if (f === 0n ? v === 0n && parts.length === 0 : (v & f) === f) {
          parts.push(String(evalExpr(a.items[1]!, cx)));
          v &= ~f;
          if (f === 0n) break;
        }
      }
      if (v !== 0n) parts.push('0x' + BigInt.asUintN(64, v).toString(16));
      return parts.join(delim);
    }
  }
  throw new Unsupported(name);
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

function intBits(len: string, longBits: number): number {
  switch (len) {
    case 'hh':
      return 8;
    case 'h':
      return 16;
    case 'l':
    case 'z':
      return longBits;
    case 'll':
    case 'L':
      return 64;
    default:
      return 32;
  }
}

function formatOne(c: Conv, v: Val, width: number, cx: EvalContext): string {
  switch (c.conv) {
    case 's': {
      let s = typeof v === 'string' ? v : v.toString();
      if (c.prec >= 0) s = s.slice(0, c.prec);
      return pad(s, c, width, false);
    }
    case 'c':
      return pad(String.fromCharCode(Number(BigInt.asUintN(8, num(v)))), c, width, false);
    case 'p': {
      const a = BigInt.asUintN(cx.longBits, num(v));
      if (c.pext === 's' || c.pext === 'S' || c.pext === 'f' || c.pext === 'F') {
        const sym = cx.symbol(a);
        if (sym !== undefined) {
          const s =
            c.pext === 'S' || c.pext === 'F'
              ? `${sym.name}+0x${(a - sym.addr).toString(16)}`
              : sym.name;
          return pad(s, c, width, false);
        }
      }
      return pad(a === 0n && c.pext === '' ? '(nil)' : '0x' + a.toString(16), c, width, false);
    }
    default: {
      const bits = intBits(c.len, cx.longBits);
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
      if (c.prec >= 0) digits = digits.padStart(c.prec, '0');
      let pre = neg ? '-' : c.flags.includes('+') ? '+' : c.flags.includes(' ') ? ' ' : '';
      if (c.flags.includes('#') && n !== 0n) {
        if (c.conv === 'x') pre += '0x';
        else if (c.conv === 'X') pre += '0X';
        else if (c.conv === 'o') pre += '0';
      }
      return pad(pre + digits, c, width, c.prec < 0);
    }
  }
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
        width = Number(num(evalExpr(w, cx)));
      } else width = c.width;
      const a = pf.args[ai++];
      if (a === undefined) return undefined;
      out += formatOne(c, evalExpr(a, cx), width, cx);
    }
    return out + pf.tail;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
