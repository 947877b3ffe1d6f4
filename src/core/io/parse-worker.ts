// Worker-thread entry (bundled as dist/parse-worker.js): parses one byte range of a text trace
// and posts the traces back as transferable buffers. Started by parallel-read.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { createTextImporter } from '../ingest/index';
import { traceToData } from '../model/trace-parts';
import { readTextRange } from './read-range';
import type { PartRequest, PartResult } from './parallel-read';

async function run(req: PartRequest): Promise<void> {
  try {
    const imp = createTextImporter(req.format, req.opts);
    const { replaced } = await readTextRange(req.path, req.start, req.end, (t) => imp.feed(t));
    const traces = imp.end();
    const transfer: ArrayBuffer[] = [];
    const data = traces.map((t) => {
      const d = traceToData(t);
      transfer.push(...d.transfer);
      return d.data;
    });
    const res: PartResult = { ok: true, traces: data, lines: imp.lines(), replaced };
    parentPort!.postMessage(res, transfer);
  } catch (e) {
    const res: PartResult = {
      ok: false,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    };
    parentPort!.postMessage(res);
  }
}

void run(workerData as PartRequest);
