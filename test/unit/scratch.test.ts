import { it } from 'vitest';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { traceInfo } from '../../src/core/report/info';
import { readdirSync, existsSync } from 'node:fs';
const root = '/work/shared/fixtures/real';
it('scratch', async () => {
  for (const d of readdirSync(root)) {
    for (const f of ['host.txt.gz', 'guest.txt.gz', 'host.perf-sched.txt.gz']) {
      const p = `${root}/${d}/${f}`;
      if (!existsSync(p)) continue;
      const t0 = Date.now();
      const r = await readTraceFile(p);
      const info = r.traces.map(traceInfo);
      console.log(d, f, Date.now() - t0, 'ms', r.format, r.diagnostics.length, info.map((i) => [i.events.total, i.cpus, i.clock, i.diagnostics.items.slice(0, 3)]));
    }
  }
});
