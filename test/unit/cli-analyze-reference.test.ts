// analyze --reference-host/--reference-guest: both or neither, only with a host trace, and on a
// lab spinning run with its blocking sibling the advice says what its work rests on.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes';
import { REAL } from './support/fixtures';
import { cliRunner } from './support/cli';

const run = cliRunner();

const at = (sc: string, f: string): string => path.join(REAL, sc, f);
const SPIN = 'heavy-quiet-active-tsc';
const BLOCK = 'heavy-quiet-passive-tsc';

describe('analyze --reference-host/--reference-guest', () => {
  it('one without the other is a usage error', async () => {
    const r = await run(
      'analyze',
      at(SPIN, 'host.txt.gz'),
      at(SPIN, 'guest.txt.gz'),
      '--reference-host',
      at(BLOCK, 'host.txt.gz'),
    );
    expect(r.code).toBe(ExitCode.usage);
    expect(r.err).toContain('give both --reference-host and --reference-guest');
  });

  it('without a host trace (guest-only) it is a usage error', async () => {
    const r = await run(
      'analyze',
      '--guest',
      at(SPIN, 'guest.txt.gz'),
      '--reference-host',
      at(BLOCK, 'host.txt.gz'),
      '--reference-guest',
      at(BLOCK, 'guest.txt.gz'),
    );
    expect(r.code).toBe(ExitCode.usage);
    expect(r.err).toContain('give --host');
  });

  it('a spinning run with its blocking sibling: the advice names the work it read there', async () => {
    const r = await run(
      'analyze',
      at(SPIN, 'host.txt.gz'),
      at(SPIN, 'guest.txt.gz'),
      '--barriers',
      '400',
      '--reference-host',
      at(BLOCK, 'host.txt.gz'),
      '--reference-guest',
      at(BLOCK, 'guest.txt.gz'),
    );
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out).toMatch(
      /work per region [\d.]+ µs in total \([\d.]+ µs-[\d.]+ µs\), read from the blocking run .*heavy-quiet-passive-tsc\/host\.txt\.gz \+ .*heavy-quiet-passive-tsc\/guest\.txt\.gz \(4 threads, [\d,]+ regions/,
    );
    expect(r.out).not.toMatch(/warning/);
    // The evidence it asks for without one is no longer asked for.
    expect(r.out).not.toContain('give it with --reference-host');
  });

  it('a spinning run without one: the evidence that would decide says how to give it', async () => {
    const r = await run(
      'analyze',
      at(SPIN, 'host.txt.gz'),
      at(SPIN, 'guest.txt.gz'),
      '--barriers',
      '400',
    );
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out).toMatch(
      /what would decide: a short traced run with OMP_WAIT_POLICY=passive \([^)]*give it with --reference-host H2 --reference-guest G2\)/,
    );
  });
});
