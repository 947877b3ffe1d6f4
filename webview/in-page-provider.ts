// The standalone report's answerer: decodes the embedded timeline model, builds the engine's
// level-of-detail index in the page, and answers the webview's requests asynchronously (as the
// extension host would), so rendering never waits on it.

import type { FromWebview, ToWebview, ViewStateSaved } from '../src/protocol/webview';
import { answerView } from '../src/core/view/answer';
import { decodeModel, type EncodedModel } from '../src/core/view/codec';
import { LanesWhenIdle, TimelineIndex } from '../src/core/view/lod';
import type { TimelineModel } from '../src/core/view/model';
import { Pending, type Transport } from './transport';

const STATE_KEY = 'vcpu-lens.view';

/** Answers one request from the index (the engine's handler, shared with the language server). */
export function answer(index: TimelineIndex, body: FromWebview): ToWebview {
  return answerView(index, body);
}

export class InPageTransport implements Transport {
  readonly index: TimelineIndex;
  private readonly pending = new Pending();
  private nextId = 1;
  /** The report carries the model, not the trace: no line to reveal. */
  readonly canRevealInTrace = false;

  /**
   * A lane's windows are read from its intervals until its pyramid is built: when the page is
   * idle, one lane per idle period, once a window has asked for the lane, so neither the first
   * paint nor a frame waits for it.
   */
  private readonly lanes: LanesWhenIdle;

  constructor(model: TimelineModel) {
    this.index = new TimelineIndex(model);
    this.lanes = new LanesWhenIdle(this.index, (f) => {
      if (typeof requestIdleCallback === 'function') requestIdleCallback(f, { timeout: 2000 });
      else setTimeout(f, 50);
    });
  }

  static fromPage(doc: Document): InPageTransport | undefined {
    const el = doc.getElementById('vcpu-lens-model');
    if (el === null || el.textContent === null) return undefined;
    return new InPageTransport(decodeModel(JSON.parse(el.textContent) as EncodedModel));
  }

  request(body: FromWebview): Promise<ToWebview> {
    return new Promise((resolve) => {
      const inReplyTo = this.pending.id(resolve);
      // A macrotask, like a message from the extension host: the UI never waits on an answer.
      setTimeout(() => {
        let reply: ToWebview;
        try {
          reply = answer(this.index, body);
        } catch (e) {
          reply = { kind: 'error', message: (e as Error).message };
        }
        this.pending.deliver({ id: this.nextId++, inReplyTo, body: reply });
        if (body.kind === 'requestWindow') this.lanes.add(body.lanes);
      }, 0);
    });
  }

  post(body: FromWebview): void {
    void this.request(body);
  }

  /** Nothing here speaks first: the page is its own provider. */
  onPush(f: (body: ToWebview) => void): void {
    this.pending.onPush(f);
  }

  getState(): ViewStateSaved | undefined {
    try {
      const s = sessionStorage.getItem(STATE_KEY);
      return s === null ? undefined : (JSON.parse(s) as ViewStateSaved);
    } catch {
      return undefined;
    }
  }

  setState(s: ViewStateSaved): void {
    try {
      sessionStorage.setItem(STATE_KEY, JSON.stringify(s));
    } catch {
      // Storage unavailable (some file:// setups): the view simply starts fresh next time.
    }
  }

  save(name: string, mime: string, data: Uint8Array | string): void {
    const blob = new Blob([typeof data === 'string' ? data : new Uint8Array(data)], { type: mime });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }
}
