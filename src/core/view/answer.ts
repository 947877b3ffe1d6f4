// Answers one webview request from a timeline index: the single message handler behind every
// provider (the HTML report's in-page provider, the language server for VS Code panels). The
// request and reply shapes are those of `src/protocol/webview.ts`, restated here structurally
// because core imports nothing outside core.

import { chromeTrace } from './chrome-trace';
import type { TimelineIndex, WindowReply, WindowRequest } from './lod';
import { PROTOCOL_VERSION } from './states';
import type { DetailsWire, TimelineMeta } from './wire';

export type ViewRequest =
  | { kind: 'ready'; protocol: number }
  | ({ kind: 'requestWindow' } & WindowRequest)
  | { kind: 'requestDetails'; lane: string; tNs: number; toleranceNs: number }
  | { kind: 'exportChromeTrace' }
  | { kind: 'saveFile'; name: string; mime: string; base64: string };

export type ViewReply =
  | { kind: 'init'; meta: TimelineMeta }
  | ({ kind: 'window' } & WindowReply)
  | { kind: 'details'; details: DetailsWire | null }
  | { kind: 'chromeTrace'; json: string }
  | { kind: 'error'; message: string };

export function answerView(index: TimelineIndex, body: ViewRequest): ViewReply {
  switch (body.kind) {
    case 'ready':
      if (body.protocol !== PROTOCOL_VERSION)
        return {
          kind: 'error',
          message: `the webview speaks protocol ${String(body.protocol)}, this provider ${PROTOCOL_VERSION}`,
        };
      return { kind: 'init', meta: index.model.meta };
    case 'requestWindow': {
      const w = index.window(body);
      return { kind: 'window', ...w };
    }
    case 'requestDetails':
      return { kind: 'details', details: index.details(body.lane, body.tNs, body.toleranceNs) };
    case 'exportChromeTrace':
      return { kind: 'chromeTrace', json: JSON.stringify(chromeTrace(index.model)) };
    case 'saveFile':
      return { kind: 'error', message: 'saveFile is handled by the page or the editor' };
  }
}
