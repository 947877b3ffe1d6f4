// Worker-thread entry (bundled as dist/parse-worker.js): parses byte ranges of a text trace, or a
// whole .dat file, and posts the traces back as transferable buffers. Started by parallel-read.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { createTextImporter } from '../ingest/index';
import { traceToData } from '../model/trace-parts';
import { readTextRange } from './read-range';
import type { InvalidUtf8 } from './utf8-chunks';
import type { DatRequest, PartProgress, PartRequest, PartResult } from './parallel-read';
import { readDatFile } from './dat-source';
import type { Trace } from '../model/trace';
import { statSync } from 'node:fs';

async function run(req: PartRequest | DatRequest): Promise<void> {
  try {
    let traces: Trace[];
    let replaced = false;
    let invalid: InvalidUtf8 | undefined;
    let lines = 0;
    let stopped = false;
    if ('kind' in req) {
      traces = readDatFile(req.path, statSync(req.path).size, req.opts, req.cpuRange);
    } else {
      const imp = createTextImporter(req.format, req.opts);
      let bytes = 0;
      let reported = 0;
      const read = await readTextRange(
        req.path,
        req.start,
        req.end,
        (t) => {
          imp.feed(t);
          // Progress every 8 MiB or so (the text is mostly ASCII: characters ~ bytes).
          bytes += t.length;
          if (bytes - reported >= 8 << 20) {
            reported = bytes;
            const p: PartProgress = { progress: bytes };
            parentPort!.postMessage(p);
          }
          return !imp.stopped();
        },
        () => imp.lines(),
      );
      replaced = read.replaced;
      invalid = read.invalid;
      stopped = imp.stopped();
      traces = imp.end();
      lines = imp.lines();
    }
    const transfer: ArrayBuffer[] = [];
    const data = traces.map((t) => {
      const d = traceToData(t);
      transfer.push(...d.transfer);
      return d.data;
    });
    const res: PartResult = {
      ok: true,
      traces: data,
      lines,
      replaced,
      ...(invalid !== undefined ? { invalid } : {}),
      stopped,
    };
    parentPort!.postMessage(res, transfer);
  } catch (e) {
    const res: PartResult = {
      ok: false,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    };
    parentPort!.postMessage(res);
  }
}

// One request given at start, or (a pool's worker, `{ pool: true }`) one request per message, in
// turn, until terminated: later parts then run on code already compiled.
const start = workerData as PartRequest | DatRequest | { pool: true };
if ('pool' in start) parentPort!.on('message', (req: PartRequest) => void run(req));
else void run(start);
