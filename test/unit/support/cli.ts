// The CLI run in-process, as the CLI tests drive it: its exit code, what it printed, and what it
// wrote to stderr during the run. One runner, not a copy per test file.

import { captureStderr } from './stderr';

// The CLI module runs itself when imported, unless told not to.
process.env['VCPU_LENS_NO_MAIN'] = '1';
const { main } = await import('../../../src/cli/main');

export interface CliRun {
  code: number;
  /** stdout and the usage/help output, one string per write, joined by newlines. */
  out: string;
  /** stderr during the current test. */
  err: string;
}

/** Registers the stderr capture for the calling test file; the runner then runs `argv`. */
export function cliRunner(): (...argv: string[]) => Promise<CliRun> {
  const stderr = captureStderr();
  return async (...argv) => {
    const out: string[] = [];
    const code = await main(
      argv,
      (s) => out.push(s),
      (s) => out.push(s),
    );
    return { code, out: out.join('\n'), err: stderr.join('') };
  };
}
