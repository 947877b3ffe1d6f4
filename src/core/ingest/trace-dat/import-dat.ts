// Imports a trace-cmd .dat file: one Trace per buffer/instance (latency-format text through the
// text importer), each decoded in order (decoder.ts) or, for a reader that wants counts, counted
// (count-dat.ts), which gives way to the ordered read whenever only that can say the same.

import { DiagnosticSink } from '../../model/diagnostics';
import { Trace, TraceBuilder } from '../../model/trace';
import { importFtraceText } from '../ftrace-text';
import { ByteSource, Damage, memorySource } from './bytes';
import { CountingDatDecoder } from './count-dat';
import { clockInfo, damageDiag, DatDecoder, type DatImportOptions } from './decoder';
import { BufferInfo, DatFile, parseDatFile } from './file';

export type { DatImportOptions } from './decoder';

/** Imports a whole .dat file held in memory. Never throws on bad input: see each trace's diagnostics. */
export function importTraceDat(input: Uint8Array | ByteSource, opts: DatImportOptions): Trace[] {
  const name = opts.name ?? 'trace.dat';
  const buf = input instanceof Uint8Array ? memorySource(input) : input;
  const parsed = parseDatFile(buf, opts.decompressors);
  if (parsed instanceof Damage) {
    const sink = new DiagnosticSink(opts.diagnosticsCap ?? 1000, name);
    const b = new TraceBuilder(name, 'trace-cmd-dat', sink);
    sink.add(damageDiag(parsed));
    return [b.finish(clockInfo('unknown'))];
  }
  const f = parsed;
  const out: Trace[] = [];
  for (const lat of f.latencyText) {
    for (const t of importFtraceText(lat, { ...opts, name })) out.push(t);
  }
  const buffers = f.buffers.length > 0 || out.length > 0 ? f.buffers : [emptyBuffer(f)];
  const range = opts.cpuRange;
  if (range !== undefined && buffers.length === 1 && out.length === 0) {
    const t = new DatDecoder(buf, f, buffers[0]!, name, opts).run(range.from === 0, range);
    return [t];
  }
  buffers.forEach((buffer, i) => {
    const traceName = buffer.name === '' ? name : `${name}:${buffer.name}`;
    const counted =
      opts.countOnly === true
        ? new CountingDatDecoder(buf, f, buffer, traceName, opts).count(i === 0)
        : undefined;
    const t = counted ?? new DatDecoder(buf, f, buffer, traceName, opts).run(i === 0);
    out.push(t);
  });
  return out;
}

function emptyBuffer(f: DatFile): BufferInfo {
  return { name: '', clock: 'unknown', pageSize: f.pageSize, cpus: [], chunked: false };
}
