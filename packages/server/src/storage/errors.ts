/**
 * The object is no longer the version the caller named with `ifMatch`: it was overwritten meanwhile.
 * Verification and promotion are bound to one ETag so the bytes promoted are the bytes verified.
 */
export class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
  readonly code = 'object_changed';
}

/**
 * The object a read or copy names does not exist (any more): e.g. a concurrent complete promoted and
 * deleted the staged copy, or an abort deleted it. Callers re-read the upload's state to learn why.
 */
export class ObjectMissingError extends Error {
  override readonly name = 'ObjectMissingError';
  readonly code = 'object_missing';
}
