// The ftrace text importer reads the layouts nearly every line has with one-pass readers (the line
// head's pid, timestamp and event name; sched_switch, sched_wakeup and sched_waking fields) and
// leaves everything else to its general paths. Where a one-pass reader answers, its answer must
// be the general path's: this compares the two, everything the importer decides, on real traces
// whose lines are mutated around the places those readers look (brackets, colons, arrows, keys,
// digits, signs), so that lines near every layout's edge take either path.

import { afterEach, describe, expect, it } from 'vitest';
import { fastPaths } from '../../src/core/ingest/fields';
import { createFtraceTextImporter } from '../../src/core/ingest/ftrace-text';
import { DIAG } from '../../src/core/model/diagnostics';
import { Kind } from '../../src/core/model/event-kinds';
import type { Trace } from '../../src/core/model/trace';
import { dumpTrace } from './support/dump';
import { textSeeds } from './support/fuzz';

/** What mutations insert: the characters and keys the one-pass readers test for. */
const TOKENS = [
  ' ',
  ':',
  '[',
  ']',
  '-',
  '>',
  '=',
  '.',
  '0',
  '7',
  '12',
  'a',
  '\t',
  '-1',
  ' [',
  '] ',
  '==>',
  ' ==> ',
  ' CPU:',
  ' CPU',
  ' target_cpu=',
  ' prio=',
  ' pid=',
  'comm=',
  'prev_comm=',
  ' next_pid=',
  ' next_prio=',
  ' ==> next_comm=',
  ' prev_state=',
  'success=1 ',
  'sys_',
  'sched_switch:',
  'sched_waking',
  '123456789012345678',
  '.5',
];

/** A small deterministic generator (xorshift32): the same mutations on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Mutates 60% of the lines, 1-3 times each, mostly after the event name. */
function mutate(text: string, seed: number): string {
  const r = rng(seed);
  return text
    .split('\n')
    .map((l) => {
      if (r() < 0.4 || l.startsWith('#') || /^\s*cpus=/.test(l)) return l;
      let s = l;
      const name = s.indexOf(': ', s.indexOf(': ') + 1);
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
        const from = r() < 0.8 && name > 0 ? name : 0;
        const at = from + Math.floor(r() * (s.length - from + 1));
        const what = r();
        if (what < 0.5) s = s.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)]! + s.slice(at);
        else if (what < 0.8) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 3));
        else {
          const b = Math.floor(r() * s.length);
          s = s.slice(0, at) + s.slice(b, b + 6) + s.slice(at);
        }
      }
      return s;
    })
    .join('\n');
}

function load(text: string, chunk: number, fast: boolean): Trace[] {
  fastPaths.on = fast;
  const imp = createFtraceTextImporter({ name: 't', eventLines: true });
  for (let at = 0; at < text.length; at += chunk) imp.feed(text.slice(at, at + chunk));
  return imp.end();
}

/** Everything decided, task ids included (the order tasks were interned in). */
function decided(traces: Trace[]): string {
  return traces
    .map((t) => {
      const tasks: string[] = [];
      for (let id = 0; id < t.tasks.size; id++)
        tasks.push(`${id}=${t.tasks.pid(id)}/${t.tasks.comm(id)}/${t.tasks.prio(id)}`);
      return `${dumpTrace(t)}\ntasks ${tasks.join(' ')}\ntypes ${JSON.stringify(t.eventTypes)}`;
    })
    .join('\n---\n');
}

function count(traces: Trace[], kind: Kind): number {
  let n = 0;
  for (const t of traces)
    for (let i = 0; i < t.events.length; i++)
      if (t.eventTypes[t.events.type(i)]!.kind === kind) n++;
  return n;
}

describe('one-pass readers of ftrace text', () => {
  afterEach(() => {
    fastPaths.on = true;
  });

  const seeds = [...textSeeds('trace-cmd-report'), ...textSeeds('tracefs-raw')];

  it('decide what the general paths decide, on the real excerpts as they are', () => {
    for (const text of seeds)
      expect(decided(load(text, 1 << 16, true))).toBe(decided(load(text, 1 << 16, false)));
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'decide what the general paths decide on mutated lines (seed %i)',
    (seed) => {
      const text = mutate(seeds.join(''), seed);
      for (const chunk of [1 << 16, 997]) {
        const fast = load(text, chunk, true);
        const general = load(text, chunk, false);
        expect(decided(fast)).toBe(decided(general));
        // Both kinds of line were there: decoded scheduler events (the one-pass readers' share)
        // and fields the general path could not read either.
        expect(count(fast, Kind.schedSwitch)).toBeGreaterThan(200);
        expect(count(fast, Kind.schedWakeup) + count(fast, Kind.schedWaking)).toBeGreaterThan(200);
        const kept = fast.flatMap((t) => t.diagnostics).filter((d) => d.code === DIAG.badFields);
        expect(kept.length).toBeGreaterThan(20);
      }
    },
  );
});
