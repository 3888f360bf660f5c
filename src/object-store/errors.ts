/**
 * Errors thrown by every object store. Callers branch on `code`, never on message text.
 * Anything a backend throws that is not one of these is wrapped in ObjectStoreError
 * (code OBJECT_STORE_FAILURE) by BaseObjectStore, with the original kept as `cause`.
 */

export type ObjectStoreErrorCode =
  | 'OBJECT_NOT_FOUND'
  | 'INVALID_KEY'
  | 'INVALID_RANGE'
  | 'KEY_CONFLICT'
  | 'OBJECT_STORE_CLOSED'
  | 'OBJECT_STORE_FAILURE'
  | 'INVALID_OBJECT_STORE_SPEC';

/** Common base so a caller can tell "ours, with a code" from anything else. */
export abstract class ObjectStoreBaseError extends Error {
  abstract readonly code: ObjectStoreErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** get() of a key that does not exist. Permanent: retrying will not help. */
export class ObjectNotFoundError extends ObjectStoreBaseError {
  readonly code = 'OBJECT_NOT_FOUND' as const;
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
  }
}

/** A key (or list prefix) that breaks the key rules in keys.ts, or is reserved by a backend. */
export class InvalidKeyError extends ObjectStoreBaseError {
  readonly code = 'INVALID_KEY' as const;
  constructor(readonly key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}...` : key)}: ${reason}`);
  }
}

/** A range whose offset or length is not a non-negative safe integer. */
export class InvalidRangeError extends ObjectStoreBaseError {
  readonly code = 'INVALID_RANGE' as const;
}

/**
 * The backend cannot hold this key next to an existing one. Only the fs store raises it:
 * a file cannot also be a directory, so `a` and `a/b` cannot both exist there (S3 allows it).
 */
export class KeyConflictError extends ObjectStoreBaseError {
  readonly code = 'KEY_CONFLICT' as const;
  constructor(readonly key: string, reason: string) {
    super(`key ${key} conflicts with an existing object: ${reason}`);
  }
}

/** Any call after close(). */
export class ObjectStoreClosedError extends ObjectStoreBaseError {
  readonly code = 'OBJECT_STORE_CLOSED' as const;
  constructor(kind: string) {
    super(`${kind} object store is closed`);
  }
}

/** The backend failed (I/O error, network, S3 error other than not-found). May be transient. */
export class ObjectStoreError extends ObjectStoreBaseError {
  readonly code = 'OBJECT_STORE_FAILURE' as const;
}

/** A failure scripted by FaultStore. Same code as a real backend failure, so callers treat it as one. */
export class InjectedFaultError extends ObjectStoreError {}

/** A malformed `--object-store` spec. */
export class InvalidObjectStoreSpecError extends ObjectStoreBaseError {
  readonly code = 'INVALID_OBJECT_STORE_SPEC' as const;
  constructor(readonly spec: string, reason: string) {
    super(`invalid object store spec ${JSON.stringify(spec)}: ${reason}`);
  }
}
