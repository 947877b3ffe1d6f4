// Named exit codes of `vcpu-lens`. Stable: scripts depend on them (documented in docs/cli.md).

export const ExitCode = {
  /** Done; the input loaded without error diagnostics. */
  ok: 0,
  /** Done, but some input had error diagnostics (bad lines, unreadable parts). */
  inputErrors: 1,
  /** Wrong command line. */
  usage: 2,
  /** An input could not be read at all (missing, unsupported format). */
  noInput: 3,
  /** A bug in vCPU Lens. */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
