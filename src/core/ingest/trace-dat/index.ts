// Reading trace-cmd .dat files (v6 and v7, uncompressed, zlib or zstd): sniff, then import.

export type { ByteSource, Decompressors } from './bytes';
export { memorySource } from './bytes';
export { isTraceDat } from './file';
export { importTraceDat } from './import-dat';
export type { DatImportOptions } from './import-dat';
