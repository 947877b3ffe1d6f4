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
  getState(): ViewStateSaved | undefined;
  setState(s: ViewStateSaved): void;
  /** Saves a file the user asked for (a download in the report, the host's save dialog in VS Code). */
  save(name: string, mime: string, data: Uint8Array | string): void;
}

/** Matches replies to requests by id; one handler for every transport. */
export class Pending {
  private next = 1;
  private readonly waiting = new Map<number, (b: ToWebview) => void>();
  id(resolve: (b: ToWebview) => void): number {
    const id = this.next++;
    this.waiting.set(id, resolve);
    return id;
  }
  deliver(m: ToWebviewMessage): void {
    if (m.inReplyTo === undefined) return;
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
