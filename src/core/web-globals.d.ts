// The few web-standard globals the engine uses, declared here because src/core is type-checked
// without DOM or Node types (src/core/tsconfig.json): anything else Node- or browser-specific is
// a type error there, not just a lint warning. Node, browsers and VS Code's webviews all have these.

declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
