// The timeline model's stalls as columns: made by the model (model.ts) and by the page's decoder
// (codec.ts), which must not pull the model's code into the webview bundle.

/** The stalls (vCPU preempted or waiting), sorted by start, as columns. */
export interface LinkColumns {
  start: Float64Array;
  end: Float64Array;
  vcpu: Int32Array;
  guestPid: Int32Array;
  /** Index into `strings`. */
  guestComm: Int32Array;
  pcpu: Int32Array;
  preemptorPid: Int32Array;
  preemptorComm: Int32Array;
  /** 1 preempted, 0 waiting. */
  preempted: Uint8Array;
}

/** Link columns for `n` stalls, zeroed (the model fills them; the codec decodes into them). */
export function newLinkColumns(n: number): LinkColumns {
  return {
    start: new Float64Array(n),
    end: new Float64Array(n),
    vcpu: new Int32Array(n),
    guestPid: new Int32Array(n),
    guestComm: new Int32Array(n),
    pcpu: new Int32Array(n),
    preemptorPid: new Int32Array(n),
    preemptorComm: new Int32Array(n),
    preempted: new Uint8Array(n),
  };
}
