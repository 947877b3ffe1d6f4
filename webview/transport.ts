// How the webview talks to whoever answers it: one request/reply transport over envelopes, so the
// same UI runs in a VS Code WebviewPanel (postMessage to the extension host) and in the standalone
// HTML report (an in-page provider over the embedded model).

import type {
  FromWebview,
  ToWebview,
  ToWebviewMessage,
  ViewStateSaved,
} from '../src/protocol/webview';

export interface Transport {
  /** Sends a request; resolves with the reply's body. */
  request(body: FromWebview): Promise<ToWebview>;
  /** Sends a message that has no answer (Details' "Reveal in Trace"). */
  post(body: FromWebview): void;
  /** Receives what the other side sends unasked (`reveal`); earlier ones are queued until then. */
  onPush(f: (body: ToWebview) => void): void;
  /** Whether an editor is there to open the trace at a line ("Reveal in Trace"). */
  readonly canRevealInTrace: boolean;
  getState(): ViewStateSaved | undefined;
  setState(s: ViewStateSaved): void;
  /** Saves a file the user asked for (a download in the report, the host's save dialog in VS Code). */
  save(name: string, mime: string, data: Uint8Array | string): void;
}

/**
 * Matches replies to requests by id and hands unasked messages (no `inReplyTo`) to the push
 * handler, queueing them until there is one; one handler for every transport.
 */
export class Pending {
  private next = 1;
  private readonly waiting = new Map<number, (b: ToWebview) => void>();
  private push: ((b: ToWebview) => void) | undefined;
  private readonly queued: ToWebview[] = [];
  id(resolve?: (b: ToWebview) => void): number {
    const id = this.next++;
    if (resolve !== undefined) this.waiting.set(id, resolve);
    return id;
  }
  onPush(f: (b: ToWebview) => void): void {
    this.push = f;
    for (const b of this.queued.splice(0)) f(b);
  }
  deliver(m: ToWebviewMessage): void {
    if (m.inReplyTo === undefined) {
      if (this.push !== undefined) this.push(m.body);
      else this.queued.push(m.body);
      return;
    }
    const r = this.waiting.get(m.inReplyTo);
    if (r === undefined) return;
    this.waiting.delete(m.inReplyTo);
    r(m.body);
  }
}

export function toBase64(data: Uint8Array | string): string {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare global {
  function acquireVsCodeApi(): VsCodeApi;
}

/** Inside VS Code: requests go to the extension host, which answers with `inReplyTo`. */
export class VsCodeTransport implements Transport {
  private readonly api = acquireVsCodeApi();
  private readonly pending = new Pending();
  readonly canRevealInTrace = true;
  constructor() {
    window.addEventListener('message', (e: MessageEvent<ToWebviewMessage>) => {
      const m = e.data;
      if (m !== null && typeof m === 'object' && typeof m.id === 'number') this.pending.deliver(m);
    });
  }
  request(body: FromWebview): Promise<ToWebview> {
    return new Promise((resolve) => {
      const id = this.pending.id(resolve);
      this.api.postMessage({ id, body });
    });
  }
  post(body: FromWebview): void {
    this.api.postMessage({ id: this.pending.id(), body });
  }
  onPush(f: (body: ToWebview) => void): void {
    this.pending.onPush(f);
  }
  getState(): ViewStateSaved | undefined {
    return (this.api.getState() as ViewStateSaved | undefined) ?? undefined;
  }
  setState(s: ViewStateSaved): void {
    // The panel's trace travels with the view state, so VS Code can restore the panel after a
    // reload (the extension's panel serializer reads it back).
    const traceUri = document.body.dataset['traceUri'];
    this.api.setState(traceUri !== undefined ? { ...s, traceUri } : s);
  }
  save(name: string, mime: string, data: Uint8Array | string): void {
    void this.request({ kind: 'saveFile', name, mime, base64: toBase64(data) });
  }
}
