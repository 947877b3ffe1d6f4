// `vcpu-lens`, the headless command over the engine. Results go to stdout, logs to stderr.

import { analyze } from './commands/analyze';
import { dump } from './commands/dump';
import { fleet } from './commands/fleet';
import { info } from './commands/info';
import { simulateCmd } from './commands/simulate';
import { sql } from './commands/sql';
import { tasks } from './commands/tasks';
import { Command, commandHelp, parseCommandLine, usageLines, wrap } from './command';
import { ExitCode } from './exit-codes';
import { dumpWriter, log, safeLines } from './terminal';
import { TOOL_VERSION } from './version';
import { WORKER_ENV } from './fleet/worker-env';

const VERSION = TOOL_VERSION;

/** Every command, once: a new command is a file in commands/ and a line here. */
export const COMMANDS: readonly Command[] = [
  info,
  tasks,
  analyze,
  dump,
  simulateCmd,
  fleet,
  sql,
] as Command[];

/** The global help: the commands' usage and summary, from their declarations. */
export function globalHelp(): string {
  const lines = [
    `vcpu-lens ${VERSION}: host + guest scheduler traces, vCPU preemption, DoP advice`,
    '',
    'Usage:',
  ];
  for (const c of COMMANDS) {
    lines.push(...usageLines(`  vcpu-lens ${c.name} `, c.usage));
    lines.push(...wrap(c.summary, 92).map((l) => `      ${l}`));
  }
  lines.push(
    '  vcpu-lens --help | --version',
    '',
    "vcpu-lens COMMAND --help: the command's usage and its own options (a command takes no other).",
    '',
    'Exit codes: 0 ok, 1 input had errors, 2 usage, 3 input unreadable, 70 internal error.',
  );
  return lines.join('\n');
}

export async function main(
  argv: string[],
  rawOut: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  /** Raw output (no newline added), for `dump`; stdout by default (escaped when a terminal). */
  write?: (s: string) => void,
): Promise<number> {
  // Everything a command prints goes through here: no control or bidi character gets out raw,
  // whichever print path forgot to escape a name.
  const out = (s: string): void => rawOut(safeLines(s));
  if (argv[0] === 'help') {
    // `vcpu-lens help [COMMAND]`
    const about = COMMANDS.find((c) => c.name === argv[1]);
    if (argv.length === 1 || (about !== undefined && argv.length === 2)) {
      out(about !== undefined ? commandHelp(about) : globalHelp());
      return ExitCode.ok;
    }
    log(`vcpu-lens help: no command '${argv.slice(1).join(' ')}'\n\n${globalHelp()}`);
    return ExitCode.usage;
  }
  // The command is the first argument naming one; only its options may come before it.
  const at = argv.findIndex((a) => COMMANDS.some((c) => c.name === a));
  const cmd = at >= 0 ? COMMANDS.find((c) => c.name === argv[at])! : undefined;
  if (cmd === undefined) {
    if (argv.length === 0) {
      out(globalHelp());
      return ExitCode.usage;
    }
    if (argv.length === 1 && argv[0] === '--version') {
      out(VERSION);
      return ExitCode.ok;
    }
    if (argv.every((a) => a === '--help' || a === '-h')) {
      out(globalHelp());
      return ExitCode.ok;
    }
    const first = argv.find((a) => !a.startsWith('-'));
    log(
      first !== undefined
        ? `vcpu-lens: unknown command '${first}'\n\n${globalHelp()}`
        : `vcpu-lens: give a command (${argv.join(' ')} is not one)\n\n${globalHelp()}`,
    );
    return ExitCode.usage;
  }
  const parsed = parseCommandLine(cmd, argv.slice(0, at), argv.slice(at + 1), COMMANDS);
  if (!parsed.ok) {
    log(`vcpu-lens ${cmd.name}: ${parsed.message}\n\n${commandHelp(cmd)}`);
    return ExitCode.usage;
  }
  if (parsed.values['help'] === true) {
    out(commandHelp(cmd));
    return ExitCode.ok;
  }
  let w = write;
  return cmd.run(parsed.values, parsed.positionals, {
    out,
    write: (s) => (w ??= dumpWriter())(s),
  });
}

/**
 * Runs the command line of this process (what the `vcpu-lens` launcher, bin.ts, calls), or, in a
 * fleet's worker process (fleet/pool.ts forks the launcher), the pairs that come over IPC.
 */
export function runCli(): void {
  if (process.env[WORKER_ENV] === '1' && process.send !== undefined) {
    import('./fleet/pool')
      .then((m) => m.fleetWorker())
      .catch((e: unknown) => {
        log(`vcpu-lens fleet worker: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(ExitCode.internal);
      });
    return;
  }
  // `vcpu-lens dump big.txt | head`: a closed pipe ends the command quietly, as for cat.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.ok);
    throw e;
  });
  main(process.argv.slice(2)).then(exitWhenWritten, (e: unknown) => {
    log(`vcpu-lens: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    exitWhenWritten(ExitCode.internal);
  });
}

/**
 * Ends the process with `code` once what was written to stdout and stderr is out (a write's
 * callback runs after the writes before it). The command's work is done: Node's own teardown of
 * its environment (the heap, V8's compiler threads finishing their jobs) cost an analysis ~10 ms
 * more than exiting here, which still runs the 'exit' handlers (the code cache's).
 */
function exitWhenWritten(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
