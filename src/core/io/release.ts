// Gives buffers back to the system at once: the engine's FreeBuffers for Node. A merge drops big
// buffers a worker sent (hundreds of MiB for a 10M-event .dat); left to the garbage collector
// they stay resident until V8 happens to collect, which with a small JS heap can be never during
// the analysis that follows, and the process peaks on top of them.

import type { FreeBuffers } from '../model/event-store';

/** How long flush waits for the channel to close before it returns anyway. */
const FLUSH_WAIT_MS = 2000;

/**
 * Collects the buffers a merge lets go of (`free`), and gives them back with `flush`: they are
 * transferred into a message on a channel that is then closed, and dropped with it once both
 * ends have closed. The buffers are detached; one that cannot be transferred (already detached,
 * or shared) is left to the collector.
 */
export class BufferReleaser {
  private pending: ArrayBuffer[] = [];

  readonly free: FreeBuffers = (buffers) => {
    for (const b of buffers) this.pending.push(b);
  };

  /** Frees what `free` was handed; resolves when the memory has been given back. */
  async flush(): Promise<void> {
    const live = [...new Set(this.pending)].filter((b) => b.byteLength > 0);
    this.pending = [];
    if (live.length === 0) return;
    // Loaded here, not at start: worker_threads costs a short command ~15 ms to load.
    const { MessageChannel } = process.getBuiltinModule('node:worker_threads');
    const { port1, port2 } = new MessageChannel();
    const closed = Promise.all(
      [port1, port2].map((p) => new Promise<void>((resolve) => p.once('close', resolve))),
    );
    try {
      port1.postMessage(null, live);
    } catch {
      // Not transferable: the collector frees it when nothing holds it.
    }
    port1.close();
    port2.close();
    // Both ends say 'close' once the message is gone; never wait on that for long.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_WAIT_MS);
      timer.unref();
    });
    await Promise.race([closed, late]);
    clearTimeout(timer);
  }
}
