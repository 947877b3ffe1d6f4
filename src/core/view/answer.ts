// Answers one webview request (wire.ts) from a timeline index: the single message handler behind
// every provider (the HTML report's in-page provider, the language server for VS Code panels).

import { chromeTrace } from './chrome-trace';
import { firstWindowRequests } from './first-view';
import type { TimelineIndex } from './lod';
import { PROTOCOL_VERSION } from './states';
import type { FromWebview, ToWebview } from './wire';

export function answerView(index: TimelineIndex, body: FromWebview): ToWebview {
  switch (body.kind) {
    case 'ready':
      if (body.protocol !== PROTOCOL_VERSION)
        return {
          kind: 'error',
          message: `the webview speaks protocol ${String(body.protocol)}, this provider ${PROTOCOL_VERSION}`,
        };
      if (body.firstView === undefined) return { kind: 'init', meta: index.model.meta };
      return {
        kind: 'init',
        meta: index.model.meta,
        windows: firstWindowRequests(index.model.meta, body.firstView).map((r) => index.window(r)),
      };
    case 'requestWindow': {
      const w = index.window(body);
      return { kind: 'window', ...w };
    }
    case 'requestDetails':
      return { kind: 'details', details: index.details(body.lane, body.tNs, body.toleranceNs) };
    case 'requestAdvice': {
      const { dop, whatIf, summary } = index.model.meta;
      return {
        kind: 'advice',
        advice: {
          ...(dop !== undefined ? { dop } : {}),
          ...(whatIf !== undefined ? { whatIf } : {}),
          summary,
        },
      };
    }
    case 'exportChromeTrace':
      return { kind: 'chromeTrace', json: JSON.stringify(chromeTrace(index.model)) };
    case 'saveFile':
      return { kind: 'error', message: 'saveFile is handled by the page or the editor' };
    case 'revealInTrace':
      return {
        kind: 'error',
        message: 'Reveal in Trace needs an editor: the trace is not open here',
      };
  }
}
