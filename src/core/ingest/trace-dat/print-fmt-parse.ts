// Parsing of the `print fmt:` line of an event format file into conversions and argument
// expressions, grouped the way libtraceevent's event-parse.c (process_arg, process_op) groups
// them. Example (syscalls):
//   print fmt: "fd: 0x%08lx, vec: 0x%08lx, vlen: 0x%08lx", ((unsigned long)(REC->fd)), ...
// print-fmt.ts evaluates what this returns.

import { PRINT_FUNCTIONS } from './print-functions';

/** A parsed expression. */
export type Expr =
  | { k: 'num'; v: bigint }
  | { k: 'str'; v: string }
  | { k: 'field'; name: string }
  /** A bare name: a field in `__get_str(name)` and friends, 0 (an unknown symbol) elsewhere. */
  | { k: 'ident'; name: string }
  | { k: 'index'; name: string; i: Expr }
  /** `mask`: the bits a cast to char/short/int/u8.. keeps; 0 keeps all (long, pointers, typedefs). */
  | { k: 'cast'; mask: number; e: Expr }
  | { k: 'un'; op: string; e: Expr }
  | { k: 'bin'; op: string; a: Expr; b: Expr; prio: number }
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

/** Thrown for anything the parser or the evaluator does not know; callers turn it into undefined. */
export class Unsupported extends Error {}

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

export function parseConversions(fmt: string): { convs: Conv[]; tail: string } {
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
    // %ps %pS %pf %pF (symbols), %pI4 %pi4 %pI6 %pI6c (addresses), %pM %pm %pMF %pMR (MACs),
    // %ph %phC %phD %phN (a dynamic array's bytes in hex).
    const ext =
      m[5] === 'p'
        ? /^(?:[sSfFBK]|[Ii]4[hnbl]?|I6c|[Ii]6|[Mm][FR]?|h[CDN]?)/.exec(fmt.slice(i))
        : null;
    if (ext) {
      pext = ext[0];
      i += pext.length;
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

/** libtraceevent get_op_prio: a lower number binds tighter. */
const LTE_PRIO: Record<string, number> = {
  '*': 6,
  '/': 6,
  '%': 6,
  '+': 7,
  '-': 7,
  '<<': 8,
  '>>': 8,
  '<': 9,
  '>': 9,
  '<=': 9,
  '>=': 9,
  '==': 10,
  '!=': 10,
  '&': 11,
  '^': 12,
  '|': 13,
  '&&': 14,
  '||': 15,
  '?': 16,
};

/** get_op_prio of a unary operator's token (it is looked up as if binary). */
const UNARY_PRIO: Record<string, number> = { '-': 7, '+': 7, '!': 4, '~': 4 };

function isOp(t: Tok | undefined): boolean {
  return typeof t === 'string' && LTE_PRIO[t] !== undefined;
}

/** Makes `node` (an object others point to) into `content`, in place. */
function replace<T extends Expr>(node: Expr, content: T): T {
  for (const k of Object.keys(node)) delete (node as Record<string, unknown>)[k];
  return Object.assign(node, content) as T;
}

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

  /**
   * An argument: an operand and the operators after it, grouped as libtraceevent's process_op
   * groups them, which is not quite C: operators of equal priority nest to the right
   * (`a - b - c` is `a - (b - c)`), and a parenthesised right operand whose operator binds less
   * tightly is rotated out of its parentheses (`x & (a | b)` is `(x & a) | b`). Kernel formats
   * print what libtraceevent makes of them, so we parse them the same way.
   */
  expr(): Expr {
    const node = this.operand();
    while (isOp(this.peek())) this.processOp(node);
    return node;
  }

  /** process_arg_token: one operand; after a unary operator, the operators that follow too. */
  operand(): Expr {
    const t = this.peek();
    if (t === '-' || t === '!' || t === '~' || t === '+') {
      this.next();
      const node: Expr = { k: 'un', op: t, e: this.operand() };
      while (isOp(this.peek())) this.processOp(node);
      return node;
    }
    if (t === '&' || t === '*') throw new Unsupported('address-of / dereference');
    if (t === '(' && this.isCast()) {
      this.next();
      const words: string[] = [];
      while (this.peek() !== ')') words.push(this.next() as string);
      this.next();
      return { k: 'cast', ...castOf(words), e: this.operand() };
    }
    if (t === '(') {
      this.next();
      const e = this.expr();
      this.eat(')');
      return e;
    }
    return this.postfix();
  }

  /** libtraceevent process_op for the operator next in line, `arg` being its left operand (changed in place). */
  processOp(arg: Expr): void {
    const op = this.next() as string;
    if (op === '?') {
      const c = { ...arg };
      const t = this.expr();
      this.eat(':');
      const f = this.expr();
      replace(arg, { k: 'cond', c, t, f });
      return;
    }
    const prio = LTE_PRIO[op]!;
    const node: Extract<Expr, { k: 'bin' }> = replace(arg, {
      k: 'bin' as const,
      op,
      a: { ...arg },
      b: { k: 'num', v: 0n } as Expr,
      prio,
    });
    const right = this.operand();
    // libtraceevent rotates when the right operand is any operator (get_op_prio of its token:
    // a unary `-` counts as 7, `!` and `~` as 4, `?:` as 16) that binds less tightly.
    const rp =
      right.k === 'bin'
        ? LTE_PRIO[right.op]!
        : right.k === 'un'
          ? UNARY_PRIO[right.op]!
          : right.k === 'cond'
            ? LTE_PRIO['?']!
            : -1;
    if (prio < rp) {
      // `a op (b rop c)` becomes `(a op b) rop c`; for a unary or ?: right operand, its missing
      // left side or its condition takes the place of b.
      const tmp = { ...node };
      if (right.k === 'bin') {
        tmp.b = right.a;
        replace(arg, { ...right, a: right });
      } else if (right.k === 'un') {
        tmp.b = { k: 'num', v: 0n };
        replace(arg, { k: 'bin', op: right.op, a: right, b: right.e, prio: 0 });
      } else if (right.k === 'cond') {
        tmp.b = right.c;
        replace(arg, { k: 'cond', c: right, t: right.t, f: right.f });
      }
      replace(right, tmp);
    } else node.b = right;
    const nt = this.peek();
    if (isOp(nt)) {
      const cur = arg.k === 'bin' ? arg.prio : 0;
      if (LTE_PRIO[nt as string]! > cur) this.processOp(arg);
      else this.processOp(right);
    }
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
      } else if (t === '[') {
        if (e.k !== 'field') throw new Unsupported('indexing');
        this.next();
        const i = this.expr();
        this.eat(']');
        e = { k: 'index', name: e.name, i };
      } else return e;
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
    if (t === 'sizeof' && this.peek() === '(') {
      this.next();
      const words: string[] = [];
      while (this.peek() !== ')') words.push(String(this.next()));
      this.next();
      return { k: 'num', v: BigInt(sizeOf(words)) };
    }
    if (/^[A-Za-z_]\w*$/.test(t) && this.peek() === '(') {
      this.next();
      const args: Expr[] = [];
      while (this.peek() !== ')') {
        args.push(this.expr());
        if (this.peek() === ',') this.next();
        else if (this.peek() !== ')') throw new Unsupported('call arguments');
      }
      this.next();
      if (!KNOWN_CALLS.has(t) && PRINT_FUNCTIONS[t] === undefined)
        throw new Unsupported(`function ${t}`);
      return { k: 'call', name: t, args };
    }
    // A bare name: the argument of __get_str(name) and friends.
    if (/^[A-Za-z_]\w*$/.test(t)) return { k: 'ident', name: t };
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
  '__print_hex',
  '__print_hex_str',
  '__print_array',
  '__get_bitmask',
  '__get_rel_bitmask',
  '__builtin_expect',
]);

/** What a cast keeps (libtraceevent eval_type_str): pointers, long and typedefs keep all bits. */
function castOf(words: string[]): { mask: number } {
  if (words.includes('*')) return { mask: 0 };
  const w = words.filter(
    (x) => x !== 'const' && x !== 'volatile' && x !== 'signed' && x !== 'unsigned',
  );
  const t = w.join(' ');
  if (/^(__)?[us]8$/.test(t) || t === 'char') return { mask: 8 };
  if (/^(__)?[us]16$/.test(t) || t === 'short' || t === 'short int') return { mask: 16 };
  if (/^(__)?[us]32$/.test(t) || t === 'int' || t === '') return { mask: 32 };
  return { mask: 0 };
}

/** sizeof(type) on the traced machine's common types (64-bit longs: what formats use it for). */
function sizeOf(words: string[]): number {
  if (words.includes('*')) return 8;
  const t = words.filter((x) => x !== 'const' && x !== 'unsigned' && x !== 'signed').join(' ');
  const m = /^(?:__)?[us](\d+)$/.exec(t);
  if (m) return Number(m[1]) / 8;
  switch (t) {
    case 'char':
    case 'bool':
    case '_Bool':
      return 1;
    case 'short':
      return 2;
    case 'int':
    case '':
      return 4;
    default:
      return 8;
  }
}
