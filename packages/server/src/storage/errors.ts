/**
 * The object is no longer the version the caller named with `ifMatch`: it was overwritten meanwhile.
 * Verification and promotion are bound to one ETag so the bytes promoted are the bytes verified.
 */
export class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
  readonly code = 'object_changed';
}

/**
 * completeMultipart was named a part storage does not hold (missing, or another ETag), or parts that
 * S3's rules refuse (a part before the last under 5 MiB): storage assembled nothing.
 */
export class InvalidPartsError extends Error {
  override readonly name = 'InvalidPartsError';
  readonly code = 'invalid_parts';
}

/**
 * The object a read or copy names does not exist (any more): e.g. a concurrent complete promoted and
 * deleted the staged copy, or an abort deleted it. Callers re-read the upload's state to learn why.
 */
export class ObjectMissingError extends Error {
  override readonly name = 'ObjectMissingError';
  readonly code = 'object_missing';
}
