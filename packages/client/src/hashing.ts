/**
 * Checksums computed while the file streams through, never holding it: each part's MD5 (base64, signed
 * into its URL so storage refuses other bytes) and the whole file's SHA-256 (hex, declared at complete).
 * Parts are fed in file order, so one running SHA-256 covers the file even though parts are sent out of
 * order. Node hashes with node:crypto (node-hasher.ts); browsers in a Web Worker (worker-hasher.ts and
 * hash-worker.ts, built with hash-wasm: Web Crypto has no MD5 and cannot hash a stream).
 */
export interface Hasher {
  /** Feeds the next part of the file (in order); resolves with the part's base64 MD5. */
  part(bytes: Blob): Promise<string>;
  /** Hex SHA-256 of every part fed since the last finish. */
  finish(): Promise<string>;
  /** The file's fingerprint (fingerprint.ts), computed where hashing runs. */
  fingerprint(file: Blob, name: string): Promise<string>;
  close(): void;
}

/** Starts hashing for one upload; undefined where the runtime cannot hash (uploads then carry no checksums). */
export type CreateHasher = (workerUrl?: string | URL) => Hasher | undefined;

/** Messages to hash-worker.js: feed a part, finish the running SHA-256, or fingerprint a file. */
export interface HashRequest {
  type: 'part' | 'finish' | 'fingerprint';
  bytes?: Blob | undefined;
  name?: string | undefined;
}

/** Its answer (in the order asked): the base64 MD5 of a part, a hex SHA-256, a fingerprint; or why it failed. */
export type HashReply = { value: string; error?: undefined } | { error: string };
