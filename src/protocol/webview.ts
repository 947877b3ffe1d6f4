// The messages between the timeline webview and whoever answers it, for the webview and the
// extension: defined once, in the engine that answers them (src/core/view/wire.ts), and
// re-exported here with the state vocabulary; plus what the webview persists. Types only.

import type { LaneGroup } from '../core/view/states';

export type { LaneGroup, ViewState } from '../core/view/states';
export type {
  AdviceMeta,
  DetailsWire,
  DopSeries,
  Envelope,
  FindingMeta,
  FirstView,
  FromWebview,
  FromWebviewMessage,
  LaneMeta,
  LaneWindow,
  LinkWire,
  ProtocolVersion,
  TimelineMeta,
  ToWebview,
  ToWebviewMessage,
  WhatIfChart,
  WindowReply,
  WindowRequest,
} from '../core/view/wire';

/** What the webview persists across hide/show (VS Code `setState`, sessionStorage in the report). */
export interface ViewStateSaved {
  startNs: number;
  endNs: number;
  collapsed: LaneGroup[];
  highlight?: { machine: 'host' | 'guest'; pid: number };
  scrollTop: number;
}
