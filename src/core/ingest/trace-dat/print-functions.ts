// Helpers that kernel print fmts call by name and libtraceevent's plugins implement
// (tep_register_print_function): each takes the evaluated arguments and returns the text.
// plugins/plugin_scsi.c:
//   print fmt: "... cmnd=(%s %s raw=%s)", ..., scsi_trace_parse_cdb(p, __get_dynamic_array(cmnd), REC->cmd_len), ...
//   → cmnd=(READ_10 lba=17699960 txlen=32 protect=0 raw=28 00 01 0e 14 78 00 00 20 00)

/** `(int)(b << 24)` or'ed into a u64, as C does it: sign-extended. */
function shl(b: number, n: number): bigint {
  return BigInt.asUintN(64, BigInt((b << n) | 0));
}

function be(cdb: Uint8Array, from: number, to: number): bigint {
  let v = 0n;
  for (let i = from; i < to; i++) v = BigInt.asUintN(64, v | shl(cdb[i] ?? 0, 8 * (to - 1 - i)));
  return v;
}

/** plugin_scsi.c scsi_trace_parse_cdb: the read/write commands' lba and length; `-` for others it has no decoder for. */
function scsiParseCdb(cdb: Uint8Array): string | undefined {
  const op = cdb[0] ?? 0;
  const b = (i: number): number => cdb[i] ?? 0;
  switch (op) {
    case 0x08: // READ_6
    case 0x0a: // WRITE_6
      return `lba=${(BigInt(b(1) & 0x1f) << 16n) | BigInt(b(2) << 8) | BigInt(b(3))} txlen=${b(4)}`;
    case 0x28: // READ_10
    case 0x2f: // VERIFY
    case 0x2a: // WRITE_10
    case 0x41: // WRITE_SAME
      return `lba=${be(cdb, 2, 6)} txlen=${be(cdb, 7, 9)} protect=${b(1) >> 5}${op === 0x41 ? ` unmap=${(b(1) >> 3) & 1}` : ''}`;
    case 0xa8: // READ_12
    case 0xaf: // VERIFY_12
    case 0xaa: // WRITE_12
      return `lba=${be(cdb, 2, 6)} txlen=${be(cdb, 6, 10)} protect=${b(1) >> 5}`;
    case 0x88: // READ_16
    case 0x8f: // VERIFY_16
    case 0x8a: // WRITE_16
    case 0x93: {
      // WRITE_SAME_16: the high half of the lba is shifted as u64, the low half as int.
      const hi =
        (BigInt(b(2)) << 56n) |
        (BigInt(b(3)) << 48n) |
        (BigInt(b(4)) << 40n) |
        (BigInt(b(5)) << 32n);
      const lba = BigInt.asUintN(64, hi | be(cdb, 6, 10));
      return `lba=${lba} txlen=${be(cdb, 10, 14)} protect=${b(1) >> 5}${op === 0x93 ? ` unmap=${(b(1) >> 3) & 1}` : ''}`;
    }
    case 0x42: // UNMAP
    case 0x9e: // SERVICE_ACTION_IN_16
    case 0x7f: // VARIABLE_LENGTH_CMD
      return undefined;
    default:
      return '-';
  }
}

/** A named print function: the text for its arguments, or undefined when it cannot be printed. */
export interface PrintFunction {
  /** Which arguments are byte arrays (the rest are numbers or ignored). */
  arrays: number[];
  run(arrays: Uint8Array[], nums: bigint[]): string | undefined;
}

export const PRINT_FUNCTIONS: Record<string, PrintFunction> = {
  scsi_trace_parse_cdb: {
    arrays: [1],
    run: ([cdb], nums) => scsiParseCdb(cdb!.subarray(0, Number(nums[2] ?? 0n))),
  },
};
