// Worker-thread entry of the fuzzer's watchdog (fuzz-run.ts): runs one check at a time and answers
// with what it measured or why the input failed. The main thread waits with a timeout, so an
// importer that never returns costs this worker, not the run. Bundled by fuzz-run.ts with
// __dirname pinned to this folder, so the seeds and fixtures resolve as in the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { checkCase, checkRawInput, datSeeds, PropertyFailure, textSeeds } from './fuzz';
import type { CheckMessage, CheckReply, WorkerSetup } from './fuzz-run';

const setup = workerData as WorkerSetup;

function run(m: CheckMessage): CheckReply {
  try {
    const req = m.req;
    if (req.kind === 'raw') {
      checkRawInput(req.format, req.input);
      return { ok: true, bytes: req.input.length, ms: 0 };
    }
    // A planted hang, for the watchdog's own test: loops like the page-size bug once did.
    if (setup.spinOnSeed === req.c.seed) for (let spins = 0; ; spins++) if (spins < 0) break;
    return { ok: true, ...checkCase(req.format, req.c) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // An exception out of an importer (not a failed check) breaks "ingest never throws".
    const where = e instanceof Error && !(e instanceof PropertyFailure) ? `\n${e.stack ?? ''}` : '';
    return { ok: false, message: message + where };
  }
}

// Seeds first (reading and parsing them takes a while), so the first check's time is its own.
if (setup.format === 'dat') datSeeds();
else if (setup.format !== undefined) textSeeds(setup.format);
parentPort!.on('message', (m: CheckMessage) => {
  parentPort!.postMessage({ id: m.id, reply: run(m) });
});
parentPort!.postMessage({ ready: true });
