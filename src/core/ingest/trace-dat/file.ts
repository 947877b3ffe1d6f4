// The container of a trace-cmd .dat file: the initial header, then either the v6 layout (fixed
// order, trace-cmd.dat.v6(5)) or v7 sections and options (trace-cmd.dat.v7(5)), down to where each
// buffer's per-CPU ring-buffer pages are. A file that ends early or is corrupt yields what was read
// before the damage plus a `Damage` record; a v7 file cut before its trailing BUFFER options is
// recovered by walking its sections in order.
//   00000000: 1708 4474 7261 6369 6e67 3700 0008 0010  ..Dtracing7.....
//   00000010: 0000 7a73 7464 0031 2e35 2e34 004c dc0f  ..zstd.1.5.4.L..

import { ByteSource, Cursor, Damage, Decompressors, inflate, text } from './bytes';
import { EventFormat, PageHeader, parseFormat, parseHeaderPage } from './format';
import { CpuStream, type CpuData } from './kbuffer';

/** Option ids (trace-cmd.h enum tracecmd_file_options); v7 section ids share them. */
export const OPT = {
  done: 0,
  date: 1,
  cpustat: 2,
  buffer: 3,
  traceClock: 4,
  uname: 5,
  hook: 6,
  offset: 7,
  cpuCount: 8,
  version: 9,
  procMaps: 10,
  traceId: 11,
  timeShift: 12,
  guest: 13,
  tsc2nsec: 14,
  strings: 15,
  headerInfo: 16,
  ftraceEvents: 17,
  eventFormats: 18,
  kallsyms: 19,
  printk: 20,
  cmdlines: 21,
  bufferText: 22,
} as const;

export interface BufferInfo {
  /** "" for the top instance. */
  name: string;
  clock: string;
  pageSize: number;
  cpus: CpuData[];
  /** Per-CPU data is a list of compressed chunks (v7 with compression). */
  chunked: boolean;
}

/** TIME_SHIFT: how the peer (usually the host) maps this file's timestamps, per CPU. */
export interface TimeShift {
  peerTraceId: bigint;
  flags: number;
  /** Per guest CPU, samples: host = (guest * scaling >> fraction) + offset, taken at guest `times`. */
  cpus: { times: bigint[]; offsets: bigint[]; scalings: bigint[]; fractions: number[] }[];
}

/** GUEST: a traced guest, its trace id, and the host task that runs each of its vCPUs. */
export interface GuestInfo {
  name: string;
  traceId: bigint;
  vcpus: { vcpu: number; hostPid: number }[];
}

export interface DatOptions {
  date?: string;
  cpuStats: string[];
  traceClock?: string;
  uname?: string;
  version?: string;
  cpuCount?: number;
  traceId?: bigint;
  offset?: string;
  timeShift?: TimeShift;
  guests: GuestInfo[];
  tsc2nsec?: { mult: number; shift: number; offset: bigint };
}

export interface DatFile {
  version: number;
  little: boolean;
  longSize: number;
  pageSize: number;
  compression: string;
  headerPage: PageHeader;
  formats: Map<number, EventFormat>;
  /** Saved cmdlines (pid to comm), parsed on first use. */
  cmdlines: () => ReadonlyMap<number, string>;
  /**
   * The saved cmdlines of these pids only, what cmdlines() has for them: for a reader that names
   * a few dozen pids (a count-only read), without making a string of every line.
   */
  cmdlinesOf: (pids: ReadonlySet<number>) => ReadonlyMap<number, string>;
  /** /proc/kallsyms of the traced machine, read (and decompressed) on first use. */
  kallsyms: () => Uint8Array | undefined;
  /**
   * printk_formats: the kernel's constant string at an address (bprint formats, `%s` of a
   * pointer), parsed on first use (only printing an event's text asks).
   */
  printk: (addr: bigint) => string | undefined;
  buffers: BufferInfo[];
  /** The `latency` data (v6) or BUFFER_TEXT sections (v7): tracefs text. */
  latencyText: string[];
  options: DatOptions;
  /** CPU count of the v6 header. */
  cpus?: number;
  /** What stopped the reading of metadata, if anything (the data read before it is kept). */
  damage: Damage[];
  /** Notes for the user (recovered layouts, skipped instances). */
  notes: { offset: number; message: string }[];
}

const MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67];

/** A ring-buffer page size: a power of two from 64 bytes to 16 MiB. */
function plausiblePageSize(n: number): boolean {
  return n >= 64 && n <= 1 << 24 && (n & (n - 1)) === 0;
}

export function isTraceDat(head: Uint8Array): boolean {
  return head.length >= MAGIC.length && MAGIC.every((v, i) => head[i] === v);
}

/**
 * The compression a v7 file's header names, from its first bytes (`7\0`, endianness, long size,
 * page size, then the name: `\x17\x08Dtracing7\0\0\x08\0\x10\0\0zstd\0`); undefined for v6
 * or when the bytes given end before the name does. A hint for work to start early; the reader
 * itself parses the header properly.
 */
export function headerCompression(head: Uint8Array): string | undefined {
  if (!isTraceDat(head) || head[10] !== 0x37 || head[11] !== 0) return undefined;
  const from = 12 + 1 + 1 + 4;
  const end = head.indexOf(0, from);
  return end < 0 ? undefined : String.fromCharCode(...head.subarray(from, end));
}

/** Parses the metadata of a .dat file; never throws for bad input (see `damage`). */
export function parseDatFile(src: ByteSource, dec: Decompressors): DatFile | Damage {
  const buf = src.read(0, Math.min(src.length, 1 << 16));
  if (!isTraceDat(buf)) return new Damage(0, 'not a trace-cmd .dat file (bad magic)');
  const head = new Cursor(buf, true, 10);
  let version: number;
  let little: boolean;
  let longSize: number;
  let pageSize: number;
  try {
    version = Number(head.cstr('the version string'));
    const endian = head.u8('the endianness byte');
    little = endian === 0;
    longSize = head.u8('the long size');
  } catch (e) {
    if (e instanceof Damage) return e;
    throw e;
  }
  if (version !== 6 && version !== 7)
    return new Damage(10, `unsupported .dat version '${version}' (6 and 7 are read)`);
  if (longSize !== 4 && longSize !== 8)
    return new Damage(head.pos - 1, `bad long size ${longSize}`);
  const c = new Cursor(buf, little, head.pos);
  try {
    pageSize = c.u32('the page size');
  } catch (e) {
    if (e instanceof Damage) return e;
    throw e;
  }
  if (!plausiblePageSize(pageSize))
    return new Damage(c.pos - 4, `implausible page size ${pageSize}`);
  const f: DatFile = {
    version,
    little,
    longSize,
    pageSize,
    compression: 'none',
    headerPage: parseHeaderPage('', longSize),
    formats: new Map(),
    cmdlines: () => NO_CMDLINES,
    cmdlinesOf: () => NO_CMDLINES,
    kallsyms: () => undefined,
    printk: () => undefined,
    buffers: [],
    latencyText: [],
    options: { cpuStats: [], guests: [] },
    damage: [],
    notes: [],
  };
  try {
    if (version === 6) readV6Prefix(src, c.pos, f);
    else readV7(src, c, f, dec);
  } catch (e) {
    if (!(e instanceof Damage)) throw e;
    f.damage.push(e);
  }
  return f;
}

function readHeaderInfo(c: Cursor, f: DatFile): void {
  const name = c.cstr('the header_page tag');
  if (name !== 'header_page')
    throw new Damage(c.offsetOf(), `expected header_page, found '${name}'`);
  const hp = c.bytes(c.u64('the header_page size'), 'header_page');
  f.headerPage = parseHeaderPage(text(hp), f.longSize);
  const ev = c.cstr('the header_event tag');
  if (ev !== 'header_event') throw new Damage(c.offsetOf(), `expected header_event, found '${ev}'`);
  c.bytes(c.u64('the header_event size'), 'header_event');
}

function addFormat(f: DatFile, src: Uint8Array, system: string): void {
  const fmt = parseFormat(text(src), system);
  if (fmt !== undefined) f.formats.set(fmt.id, fmt);
}

function readFtraceEvents(c: Cursor, f: DatFile): void {
  const n = c.u32('the ftrace format count');
  for (let i = 0; i < n; i++)
    addFormat(f, c.bytes(c.u64('a format size'), 'an ftrace format'), 'ftrace');
}

function readEventFormats(c: Cursor, f: DatFile): void {
  const systems = c.u32('the event system count');
  for (let s = 0; s < systems; s++) {
    const sys = c.cstr('a system name');
    const n = c.u32('the event count');
    for (let i = 0; i < n; i++)
      addFormat(f, c.bytes(c.u64('a format size'), 'an event format'), sys);
  }
}

const NO_CMDLINES: ReadonlyMap<number, string> = new Map();

/** The saved cmdlines section, `1234 qemu-system-x86` a line: parsed when first asked for. */
function readCmdlines(src: Uint8Array, f: DatFile): void {
  const before = f.cmdlines;
  let map: Map<number, string> | undefined;
  f.cmdlines = () => {
    if (map === undefined) {
      // A later section adds to (and overrides) an earlier one, as when read in file order.
      map = new Map(before());
      // Line by line in place (no array of lines, the pid read from its digits): thousands of
      // lines, parsed before the first event is named. A pid that is not plain digits is read by
      // Number() as it always was.
      const s = text(src);
      for (let at = 0; at < s.length;) {
        let nl = s.indexOf('\n', at);
        if (nl < 0) nl = s.length;
        let sp = -1;
        let pid = 0;
        let digits = true;
        for (let i = at; i < nl; i++) {
          const c = s.charCodeAt(i);
          if (c === 32) {
            sp = i;
            break;
          }
          if (c >= 48 && c <= 57) pid = pid * 10 + (c - 48);
          else digits = false;
        }
        if (sp > at) {
          if (!digits || sp - at > 15) pid = Number(s.slice(at, sp));
          if (Number.isInteger(pid)) map.set(pid, s.slice(sp + 1, nl));
        }
        at = nl + 1;
      }
    }
    return map;
  };
  const beforeOf = f.cmdlinesOf;
  f.cmdlinesOf = (pids) => {
    // Once parsed, or with any byte past ASCII (decoded as a whole, as cmdlines() does): from the map.
    if (map !== undefined || src.some((c) => c >= 0x80)) {
      const all = f.cmdlines();
      const out = new Map<number, string>();
      for (const p of pids) {
        const c = all.get(p);
        if (c !== undefined) out.set(p, c);
      }
      return out;
    }
    const out = new Map(beforeOf(pids));
    // cmdlines()'s reading of each line, on the bytes; a comm made only for the pids asked for.
    for (let at = 0; at < src.length;) {
      let nl = src.indexOf(10, at);
      if (nl < 0) nl = src.length;
      let sp = -1;
      let pid = 0;
      let digits = true;
      for (let i = at; i < nl; i++) {
        const c = src[i]!;
        if (c === 32) {
          sp = i;
          break;
        }
        if (c >= 48 && c <= 57) pid = pid * 10 + (c - 48);
        else digits = false;
      }
      if (sp > at) {
        if (!digits || sp - at > 15) pid = Number(text(src, at, sp));
        if (Number.isInteger(pid) && pids.has(pid)) out.set(pid, text(src, sp + 1, nl));
      }
      at = nl + 1;
    }
    return out;
  };
}

function str(data: Uint8Array): string {
  const end = data.indexOf(0);
  return text(data, 0, end < 0 ? data.length : end);
}

/** One option's data. `v7` changes the BUFFER layout. */
function readOption(
  id: number,
  data: Uint8Array,
  f: DatFile,
  optOffset: number,
  v7: boolean,
  inflatedAt?: number,
): void {
  const o = f.options;
  const c = new Cursor(data, f.little, 0, optOffset, inflatedAt);
  switch (id) {
    case OPT.date:
      o.date = str(data);
      break;
    case OPT.cpustat:
      o.cpuStats.push(str(data));
      break;
    case OPT.traceClock:
      o.traceClock = str(data);
      break;
    case OPT.uname:
      o.uname = str(data);
      break;
    case OPT.version:
      o.version = str(data);
      break;
    case OPT.offset:
      o.offset = str(data);
      break;
    case OPT.cpuCount:
      o.cpuCount = c.u32('CPUCOUNT');
      break;
    case OPT.traceId:
      o.traceId = c.u64big('TRACEID');
      break;
    case OPT.tsc2nsec:
      o.tsc2nsec = {
        mult: c.u32('TSC2NSEC'),
        shift: c.u32('TSC2NSEC'),
        offset: c.u64big('TSC2NSEC'),
      };
      break;
    case OPT.guest: {
      const name = c.cstr('the guest name');
      const traceId = c.u64big('the guest trace id');
      const n = c.u32('the guest CPU count');
      const vcpus: GuestInfo['vcpus'] = [];
      for (let i = 0; i < n; i++)
        vcpus.push({ vcpu: c.u32('a vCPU id'), hostPid: c.u32('a vCPU pid') });
      o.guests.push({ name, traceId, vcpus });
      break;
    }
    case OPT.timeShift: {
      const peerTraceId = c.u64big('the peer trace id');
      const flags = c.u32('the time sync flags');
      const n = c.u32('the time shift CPU count');
      const cpus: TimeShift['cpus'] = [];
      for (let i = 0; i < n; i++) {
        const count = c.u32('a time shift count');
        if (count > c.left / 8) throw new Damage(c.offsetOf(), 'implausible time shift count');
        const times: bigint[] = [];
        const offsets: bigint[] = [];
        const scalings: bigint[] = [];
        for (let k = 0; k < count; k++) times.push(c.u64big('a time shift time'));
        for (let k = 0; k < count; k++) offsets.push(c.u64big('a time shift offset'));
        for (let k = 0; k < count; k++) scalings.push(c.u64big('a time shift scaling'));
        cpus.push({ times, offsets, scalings, fractions: times.map(() => 0) });
      }
      // trace-cmd 3.x appends, per CPU, the fraction bits of each sample's scaling (trace-input.c).
      for (const cpu of cpus) {
        if (c.left < cpu.times.length * 8) break;
        cpu.fractions = cpu.times.map(() => Number(c.u64big('fraction bits')));
      }
      o.timeShift = { peerTraceId, flags, cpus };
      break;
    }
    case OPT.buffer: {
      if (!v7) {
        // v6 instances: an offset and a name; their data layout is not read (yet).
        c.u64('the buffer offset');
        f.notes.push({
          offset: optOffset,
          message: `instance '${c.cstr('the instance name')}' in a v6 file is not read`,
        });
        break;
      }
      c.u64('the flyrecord section offset'); // the CPU offsets below are what we need
      const name = c.cstr('the instance name');
      const clock = c.cstr('the instance clock');
      // trace-cmd >= 3.1 writes the page size here; 3.0 did not. Tell them apart by the length.
      let pageSize = f.pageSize;
      if (c.left >= 8 && c.view.getUint32(c.pos + 4, f.little) * 20 === c.left - 8) {
        const at = c.offsetOf();
        const ps = c.u32('the buffer page size');
        // A corrupt one (0 made the page reader loop forever) falls back to the file's.
        if (plausiblePageSize(ps)) pageSize = ps;
        else
          f.notes.push({
            offset: at,
            message: `instance '${name}' says its page size is ${ps}; the file's ${f.pageSize} is used`,
          });
      }
      const n = c.u32('the buffer CPU count');
      const cpus: CpuData[] = [];
      for (let i = 0; i < n; i++)
        cpus.push({
          cpu: cpuId(c),
          offset: c.u64('a CPU data offset'),
          size: c.u64('a CPU data size'),
        });
      f.buffers.push({ name, clock, pageSize, cpus, chunked: f.compression !== 'none' });
      break;
    }
    default:
      break;
  }
}

function cpuId(c: Cursor): number {
  const at = c.offsetOf();
  const id = c.u32('a CPU id');
  if (id > 0xfffe) throw new Damage(at, `implausible CPU id ${id}`);
  return id;
}

// ---- v6 ----

/**
 * v6 metadata sits, in a fixed order, at the start of the file: read a prefix that holds it
 * (growing it when the metadata runs past it), then parse.
 */
function readV6Prefix(src: ByteSource, pos: number, f: DatFile): void {
  for (let size = Math.min(src.length, 32 << 20); ; size = Math.min(src.length, size * 4)) {
    const prefix = src.read(0, size);
    const fresh: DatFile = {
      ...f,
      formats: new Map(),
      cmdlines: () => NO_CMDLINES,
      cmdlinesOf: () => NO_CMDLINES,
      printk: () => undefined,
      buffers: [],
      latencyText: [],
      notes: [],
      options: { cpuStats: [], guests: [] },
    };
    try {
      readV6(new Cursor(prefix, f.little, pos), fresh, src);
      Object.assign(f, fresh);
      return;
    } catch (e) {
      if (!(e instanceof Damage) || prefix.length >= src.length) {
        Object.assign(f, fresh);
        throw e;
      }
    }
  }
}

function readV6(c: Cursor, f: DatFile, src: ByteSource): void {
  readHeaderInfo(c, f);
  readFtraceEvents(c, f);
  readEventFormats(c, f);
  const ks = c.bytes(c.u32('the kallsyms size'), 'kallsyms');
  f.kallsyms = () => ks;
  readPrintk(c.bytes(c.u32('the printk size'), 'printk formats'), f);
  readCmdlines(c.bytes(c.u64('the cmdlines size'), 'saved cmdlines'), f);
  const cpus = c.u32('the CPU count');
  if (cpus > 0xffff) throw new Damage(c.pos - 4, `implausible CPU count ${cpus}`);
  f.cpus = cpus;
  let tag = text(c.bytes(10, 'the section tag'));
  if (tag === 'options  \0') {
    for (;;) {
      const id = c.u16('an option id');
      if (id === 0) break;
      const size = c.u32('an option size');
      const at = c.pos;
      readOption(id, c.bytes(size, 'an option'), f, at, false);
    }
    tag = text(c.bytes(10, 'the section tag'));
  }
  if (tag === 'latency  \0') {
    f.latencyText.push(text(src.read(c.pos, src.length - c.pos)));
    return;
  }
  if (tag !== 'flyrecord\0')
    throw new Damage(c.pos - 10, `unknown data tag '${tag.replace(/\0/g, '')}'`);
  const list: CpuData[] = [];
  for (let i = 0; i < cpus; i++)
    list.push({ cpu: i, offset: c.u64('a CPU data offset'), size: c.u64('a CPU data size') });
  // With a TRACECLOCK option (empty in files from trace-cmd 2.x), v6 stores the trace_clock file
  // after the CPU offsets: a u64 size and `[local] global ...` (trace-input.c init_data_v6).
  if (f.options.traceClock !== undefined) {
    try {
      const tc = text(c.bytes(c.u64('the trace_clock size'), 'trace_clock')).trim();
      if (tc !== '') f.options.traceClock = tc;
    } catch (e) {
      if (!(e instanceof Damage)) throw e;
      f.notes.push({
        offset: e.offset,
        message: `the trace_clock section is unreadable (${e.message})`,
      });
    }
  }
  f.buffers.unshift({
    name: '',
    clock: clockOf(f.options.traceClock),
    pageSize: f.pageSize,
    cpus: list,
    chunked: false,
  });
}

/**
 * tracefs printk_formats, one `0xffffffc00082dbd8 : "fig: cpu=%d\n gid=%d\n"` a line, kept as
 * libtraceevent keeps them (tep_register_print_string): the quotes and one trailing `\n` (two
 * characters: the escapes stay as written) taken off.
 */
function readPrintk(src: Uint8Array, f: DatFile): void {
  const before = f.printk;
  let map: Map<bigint, string> | undefined;
  f.printk = (a) => {
    if (map === undefined) {
      map = new Map();
      for (const line of text(src).split('\n')) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const addr = /^\s*(?:0x)?([0-9a-fA-F]+)\s*$/.exec(line.slice(0, colon));
        if (!addr) continue;
        let s = line.slice(colon + 2);
        if (s.startsWith('"')) s = s.slice(1);
        if (s.endsWith('"')) s = s.slice(0, -1);
        if (s.endsWith('\\n')) s = s.slice(0, -2);
        map.set(BigInt('0x' + addr[1]), s);
      }
    }
    // A later section overrides an earlier one at the same address.
    return map.get(a) ?? before(a);
  };
}

/** `[local] global counter` → `local`. */
export function clockOf(traceClock: string | undefined): string {
  if (traceClock === undefined) return 'unknown';
  const m = /\[([^\]]+)\]/.exec(traceClock);
  return m ? m[1]! : traceClock.trim() || 'unknown';
}

// ---- v7 ----

interface Section {
  id: number;
  start: number;
  /** Section content (decompressed when it was compressed). */
  body: Cursor;
  /** Offset just past the section in the file. */
  end: number;
}

function readSection(src: ByteSource, f: DatFile, dec: Decompressors, at: number): Section {
  if (at >= src.length)
    throw new Damage(
      src.length,
      'file ends',
      `file ends at byte ${src.length}, before the section it points to at byte ${at}`,
    );
  const c = new Cursor(src.read(at, 16), f.little, 0, at);
  const id = c.u16('a section header');
  const flags = c.u16('a section header');
  c.u32('a section header');
  const size = c.u64('a section header');
  const start = at + 16;
  const data = src.read(start, size);
  if (data.length < size)
    throw new Damage(start + data.length, `file ends inside section ${id} (${size} bytes)`);
  let body: Cursor;
  if ((flags & 1) !== 0) {
    const h = new Cursor(data, f.little, 0, start);
    const csize = h.u32('a compression header');
    const usize = h.u32('a compression header');
    const z = h.bytes(csize, `compressed section ${id}`);
    body = new Cursor(inflate(f.compression, dec, z, usize, start), f.little, 0, start, at);
  } else {
    body = new Cursor(data, f.little, 0, start);
  }
  return { id, start: at, body, end: start + size };
}

function readV7(src: ByteSource, c: Cursor, f: DatFile, dec: Decompressors): void {
  f.compression = c.cstr('the compression name');
  c.cstr('the compression version');
  const firstOptions = c.u64('the options offset');
  const sectionsStart = c.pos;
  const seen = new Set<number>();
  const done = new Set<number>();
  const load = (id: number, at: number): void => {
    if (done.has(at)) return;
    done.add(at);
    if (id === OPT.kallsyms) {
      f.kallsyms = lazyKallsyms(src, f, dec, at);
      return;
    }
    const s = readSection(src, f, dec, at);
    if (s.id !== id) throw new Damage(at, `expected section ${id}, found ${s.id}`);
    readSectionBody(s, f);
  };
  try {
    let next = firstOptions;
    while (next !== 0) {
      if (seen.has(next)) throw new Damage(next, 'options sections form a loop');
      seen.add(next);
      const s = readSection(src, f, dec, next);
      if (s.id !== 0) throw new Damage(next, `expected an options section, found section ${s.id}`);
      next = readOptions(s.body, f, load);
    }
  } catch (e) {
    if (!(e instanceof Damage)) throw e;
    f.damage.push(e);
    recoverV7(src, f, dec, sectionsStart, done);
  }
}

/** Reads an options section's options; returns the offset of the next options section (0: none). */
function readOptions(b: Cursor, f: DatFile, load: (id: number, at: number) => void): number {
  while (b.left > 0) {
    const id = b.u16('an option id');
    const size = b.u32('an option size');
    const at = b.offsetOf();
    const data = b.bytes(size, 'an option');
    const d = new Cursor(data, f.little, 0, at, b.inflatedAt);
    if (id === OPT.done) return d.u64('the next options offset');
    if (id >= OPT.headerInfo && id <= OPT.cmdlines) {
      load(id, d.u64('a section offset'));
    } else if (id === OPT.bufferText) {
      load(OPT.bufferText, d.u64('a latency section offset'));
    } else {
      readOption(id, data, f, at, true, b.inflatedAt);
    }
  }
  return 0;
}

/** The KALLSYMS section, decompressed when a %ps first needs it (it is megabytes). */
function lazyKallsyms(
  src: ByteSource,
  f: DatFile,
  dec: Decompressors,
  at: number,
): () => Uint8Array | undefined {
  let v: Uint8Array | undefined | null = null;
  return () => {
    if (v === null) {
      try {
        const s = readSection(src, f, dec, at);
        v =
          s.id === OPT.kallsyms
            ? s.body.bytes(s.body.u32('the kallsyms size'), 'kallsyms')
            : undefined;
      } catch (e) {
        if (!(e instanceof Damage)) throw e;
        v = undefined;
      }
    }
    return v;
  };
}

function readSectionBody(s: Section, f: DatFile): void {
  const b = s.body;
  switch (s.id) {
    case OPT.headerInfo:
      readHeaderInfo(b, f);
      break;
    case OPT.ftraceEvents:
      readFtraceEvents(b, f);
      break;
    case OPT.eventFormats:
      readEventFormats(b, f);
      break;
    case OPT.kallsyms: {
      const ks = b.bytes(b.u32('the kallsyms size'), 'kallsyms');
      f.kallsyms = () => ks;
      break;
    }
    case OPT.printk:
      readPrintk(b.bytes(b.u32('the printk size'), 'printk formats'), f);
      break;
    case OPT.cmdlines:
      readCmdlines(b.bytes(b.u64('the cmdlines size'), 'saved cmdlines'), f);
      break;
    case OPT.bufferText:
      f.latencyText.push(text(b.buf, b.pos));
      break;
    default:
      break;
  }
}

/**
 * The options chain broke (typically: the file was cut before its trailing BUFFER options). Walk
 * the sections from the start, read the metadata not read yet, and rebuild each flyrecord
 * buffer's per-CPU data from the layout trace-cmd writes: CPUs in order, each at a page-aligned
 * offset; compressed CPUs as chunk lists, uncompressed ones split where page timestamps go back.
 */
function recoverV7(
  src: ByteSource,
  f: DatFile,
  dec: Decompressors,
  start: number,
  done: Set<number>,
): void {
  let at = start;
  const haveBuffers = f.buffers.length > 0;
  while (at + 16 <= src.length) {
    const h = new Cursor(src.read(at, 16), f.little, 0, at);
    const id = h.u16();
    const flags = h.u16();
    h.u32();
    let size: number;
    try {
      size = h.u64('a section size');
    } catch {
      return;
    }
    if (id > OPT.bufferText || (flags & ~1) !== 0) return; // not a section header: stop here
    const bodyStart = at + 16;
    if (id === OPT.buffer) {
      if (!haveBuffers) recoverBuffer(src, f, bodyStart, Math.min(src.length, bodyStart + size));
    } else if (!done.has(at) && id !== 0 && id !== OPT.strings) {
      try {
        readSectionBody(readSection(src, f, dec, at), f);
      } catch (e) {
        if (!(e instanceof Damage)) throw e;
        return;
      }
    } else if (id === 0 && !done.has(at)) {
      try {
        const s = readSection(src, f, dec, at);
        readOptions(s.body, f, (sid, off) => {
          if (!done.has(off)) {
            done.add(off);
            const sec = readSection(src, f, dec, off);
            if (sec.id === sid) readSectionBody(sec, f);
          }
        });
      } catch (e) {
        if (!(e instanceof Damage)) throw e;
      }
    }
    done.add(at);
    if (bodyStart + size > src.length) return;
    at = bodyStart + size;
  }
}

/** The timestamp of the last event in the page at `at` (its own timestamp when it has none). */
function lastEventTs(
  src: ByteSource,
  f: DatFile,
  at: number,
  size: number,
  pageTs: bigint,
): bigint {
  const quiet = { damage: (): void => {}, lost: (): void => {} };
  const s = new CpuStream(src, f, { cpu: 0, offset: at, size }, f.pageSize, false, {}, quiet);
  let last = -1;
  while (s.next()) last = s.ts;
  return last < 0 ? pageTs : BigInt(last);
}

function recoverBuffer(src: ByteSource, f: DatFile, bodyStart: number, end: number): void {
  const ps = f.pageSize;
  const align = (x: number): number => Math.ceil(x / ps) * ps;
  const u32At = (p: number): number => new Cursor(src.read(p, 4), f.little, 0, p).u32();
  const cpus: CpuData[] = [];
  let pos = align(bodyStart);
  const chunked = f.compression !== 'none';
  if (chunked) {
    while (pos + 4 <= end) {
      const n = u32At(pos);
      if (n === 0 || n > (end - pos) / 8) break;
      let q = pos + 4;
      for (let k = 0; k < n && q + 8 <= end; k++) {
        const cs = u32At(q);
        if (q + 8 + cs > end) {
          q = end;
          break;
        }
        q += 8 + cs;
      }
      cpus.push({ cpu: cpus.length, offset: pos, size: Math.min(q, end) - pos });
      pos = align(q);
    }
  } else {
    // A CPU's pages follow each other in time: each starts at or after the last event of the
    // one before. The next CPU's first page starts earlier than that (not merely earlier than
    // the previous page's start, which misses a CPU whose data begins later in the trace).
    const ts = (p: number): bigint => new Cursor(src.read(p, 8), f.little, 0, p).u64big();
    let cpuStart = pos;
    let last = -1n;
    for (let p = pos; p + 16 <= end; p += ps) {
      const t = ts(p);
      if (t < last) {
        cpus.push({ cpu: cpus.length, offset: cpuStart, size: p - cpuStart });
        cpuStart = p;
      }
      last = lastEventTs(src, f, p, Math.min(ps, end - p), t);
    }
    if (end > cpuStart) cpus.push({ cpu: cpus.length, offset: cpuStart, size: end - cpuStart });
  }
  if (cpus.length === 0) return;
  f.notes.push({
    offset: bodyStart,
    message: `BUFFER options missing (file cut short?): ${cpus.length} CPU stream(s) recovered from the data section, CPU numbers assumed in file order`,
  });
  f.buffers.push({ name: '', clock: clockOf(f.options.traceClock), pageSize: ps, cpus, chunked });
}
