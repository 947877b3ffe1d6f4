// The webview bundle's entry: picks the transport (VS Code's postMessage, or the report's embedded
// model), mounts the timeline, and exposes a read-only debug handle for tests and the benchmark.

import { TimelineApp, type TimelineDebug } from './app';
import { InPageTransport } from './in-page-provider';
import { VsCodeTransport, type Transport } from './transport';

declare global {
  interface Window {
    vcpuLens?: TimelineDebug;
  }
}

function transport(): Transport | undefined {
  if (typeof acquireVsCodeApi === 'function') return new VsCodeTransport();
  return InPageTransport.fromPage(document);
}

const root = document.getElementById('vl-root');
if (root !== null) {
  let t: Transport | undefined;
  try {
    t = transport();
  } catch (e) {
    root.textContent = `vCPU Lens: the embedded timeline could not be read: ${(e as Error).message}`;
  }
  if (t !== undefined) {
    const app = new TimelineApp(t, document);
    app.start(root).then(
      () => {
        window.vcpuLens = app.debug();
        document.body.dataset['ready'] = '1';
      },
      (e: unknown) => {
        root.textContent = `vCPU Lens: ${(e as Error).message}`;
      },
    );
  }
}
