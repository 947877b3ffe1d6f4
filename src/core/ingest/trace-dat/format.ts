// Event format files as the kernel prints them in tracefs `events/<system>/<event>/format` and
// trace-cmd stores them in the .dat (trace-cmd.dat.v7(5), "EVENT FORMATS SECTION"):
//   name: sched_switch
//   ID: 316
//   format:
//   	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
//   	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
//   	field:__data_loc char[] name;	offset:12;	size:4;	signed:0;
//   print fmt: "prev_comm=%s prev_pid=%d ...", REC->prev_comm, REC->prev_pid, ...

import { parsePrintFmt, PrintFmt } from './print-fmt';

export interface Field {
  name: string;
  /** The C type as declared, without the name (`char[16]` is `char`, arrays in `arrayLen`). */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** Element count for `[N]` arrays, 0 for scalars, -1 for `__data_loc` / `__rel_loc` arrays. */
  arrayLen: number;
  /** `__data_loc` (offset from the record start) or `__rel_loc` (offset from the field's end). */
  dynamic: 'none' | 'data_loc' | 'rel_loc';
  /** A char array or dynamic char string. */
  isString: boolean;
}

export interface EventFormat {
  id: number;
  name: string;
  system: string;
  fields: Field[];
  byName: Map<string, Field>;
  /** The print format, or undefined when it did not parse (events then print as `field=value`). */
  print: PrintFmt | undefined;
  printText: string;
}

/**
 * Parses one format file; undefined when it has no name or ID. Only the name and ID are read now:
 * a .dat holds the formats of every event the kernel has (hundreds, ~50 ms to parse on a 1 MB v6
 * file) and uses a few, so the fields and the print fmt are parsed when first asked for.
 */
export function parseFormat(text: string, system: string): EventFormat | undefined {
  const name = /^name: (.*)$/m.exec(text)?.[1]?.trim();
  const id = /^ID: (\d+)$/m.exec(text)?.[1];
  if (name === undefined || id === undefined) return undefined;
  return new LazyFormat(Number(id), name, system, text);
}

class LazyFormat implements EventFormat {
  private fieldList: Field[] | undefined;
  private fieldMap: Map<string, Field> | undefined;
  private printFmt: { fmt: PrintFmt | undefined } | undefined;
  private printSource: string | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly system: string,
    private readonly text: string,
  ) {}

  get fields(): Field[] {
    if (this.fieldList === undefined) {
      const fields: Field[] = [];
      const re = /field:([^;]*);\s*offset:(\d+);\s*size:(\d+);(?:\s*signed:(\d+);)?/g;
      for (let m = re.exec(this.text); m !== null; m = re.exec(this.text)) {
        const f = parseField(m[1]!.trim(), Number(m[2]), Number(m[3]), m[4] === '1');
        if (f !== undefined) fields.push(f);
      }
      this.fieldList = fields;
    }
    return this.fieldList;
  }

  get byName(): Map<string, Field> {
    return (this.fieldMap ??= new Map(this.fields.map((f) => [f.name, f])));
  }

  get printText(): string {
    // The print fmt runs to the end of the file: some kernels' formats hold a raw newline.
    return (this.printSource ??= /^print fmt: ([^]*)$/m.exec(this.text)?.[1]?.trimEnd() ?? '');
  }

  get print(): PrintFmt | undefined {
    const t = this.printText;
    return (this.printFmt ??= { fmt: t !== '' ? parsePrintFmt(t) : undefined }).fmt;
  }
}

function parseField(
  decl: string,
  offset: number,
  size: number,
  signed: boolean,
): Field | undefined {
  let d = decl;
  let dynamic: Field['dynamic'] = 'none';
  if (d.startsWith('__data_loc ')) {
    dynamic = 'data_loc';
    d = d.slice(11);
  } else if (d.startsWith('__rel_loc ')) {
    dynamic = 'rel_loc';
    d = d.slice(10);
  }
  let arrayLen = 0;
  const arr = /\[([^\]]*)\]\s*$/.exec(d);
  if (arr) {
    d = d.slice(0, arr.index).trim();
    arrayLen = /^\d+$/.test(arr[1]!) ? Number(arr[1]) : -1;
  }
  // `__data_loc char[] name`: the brackets sit on the type.
  d = d.replace(/\[\]/g, ' ').trim();
  if (dynamic !== 'none') arrayLen = -1;
  const nm = /([A-Za-z_]\w*)$/.exec(d);
  if (!nm) return undefined;
  const type = d.slice(0, nm.index).trim();
  const elem = type.replace(/\b(const|volatile|unsigned|signed)\b/g, '').trim();
  const isString = arrayLen !== 0 && elem === 'char';
  return { name: nm[1]!, type, offset, size, signed, arrayLen, dynamic, isString };
}

/** The header_page format: where the commit word and the data start (kernel ring_buffer.c). */
export interface PageHeader {
  tsOffset: number;
  commitOffset: number;
  commitSize: number;
  dataOffset: number;
}

export function parseHeaderPage(text: string, longSize: number): PageHeader {
  // Locals, then one object: every PageHeader has one shape with fields written once (a field
  // rewritten after the literal turns mutable, and the page loop's optimised code with it).
  let tsOffset = 0;
  let commitOffset = 8;
  let commitSize = longSize;
  let dataOffset = 8 + longSize;
  const re = /field:\s*([^;]*);\s*offset:(\d+);\s*size:(\d+);/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const nm = /(\w+)(?:\[\w*\])?\s*$/.exec(m[1]!.trim())?.[1];
    if (nm === 'timestamp') tsOffset = Number(m[2]);
    else if (nm === 'commit') {
      commitOffset = Number(m[2]);
      commitSize = Number(m[3]);
    } else if (nm === 'data') dataOffset = Number(m[2]);
  }
  return { tsOffset, commitOffset, commitSize, dataOffset };
}
