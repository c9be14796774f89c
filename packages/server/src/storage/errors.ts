/**
 * The object is no longer the version the caller named with `ifMatch`: it was overwritten meanwhile.
 * Verification and promotion are bound to one ETag so the bytes promoted are the bytes verified.
 */
export class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
  readonly code = 'object_changed';
}
