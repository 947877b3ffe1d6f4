// Sniffs what a file is from its first bytes and text, never from its name (speedscope's rule):
// users rename traces, and `.txt` says nothing about which text.

import { sniffTextFormat, TextFormatId } from './formats';

/** trace-cmd's file magic: 0x17 0x08 0x44 "tracing" (trace-cmd.dat(5)). */
const DAT_MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67];

export function sniffBytes(head: Uint8Array): 'gzip' | 'trace-cmd-dat' | 'zstd' | 'text' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (
    head.length >= 4 &&
    head[0] === 0x28 &&
    head[1] === 0xb5 &&
    head[2] === 0x2f &&
    head[3] === 0xfd
  )
    return 'zstd';
  if (head.length >= DAT_MAGIC.length && DAT_MAGIC.every((v, i) => head[i] === v))
    return 'trace-cmd-dat';
  return 'text';
}

/** Which text importer reads `head` (the first KiB of decoded text): formats.ts decides. */
export function sniffText(head: string): TextFormatId | 'unknown' {
  return sniffTextFormat(head);
}
