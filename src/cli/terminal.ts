// Output helpers for the CLI: trace-derived text (task names, markers) is escaped before it
// reaches a terminal, so a hostile comm cannot move the cursor or change the title.

// Control characters (C0, DEL, C1) and bidi overrides.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Replaces control characters and bidi overrides with visible `\uXXXX` escapes. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function log(msg: string): void {
  process.stderr.write(msg + '\n');
}
