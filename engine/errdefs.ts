/**
 * Error classes shared by the engine's domain code and its API layer.
 * Domain code throws these; the API maps each class to its HTTP status,
 * the way moby's errdefs package does, so handlers never pick status codes.
 */
export class EngineError extends Error {
  readonly status: number = 500;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed or names something invalid. */
export class InvalidParameterError extends EngineError {
  override readonly status = 400;
}

/** 404: the object does not exist. */
export class NotFoundError extends EngineError {
  override readonly status = 404;
}

/** 409: the object exists but its state forbids the operation. */
export class ConflictError extends EngineError {
  override readonly status = 409;
}

/** 401 */
export class UnauthorizedError extends EngineError {
  override readonly status = 401;
}

/** 403 */
export class ForbiddenError extends EngineError {
  override readonly status = 403;
}

/** 304: the operation was a no-op (already started, already stopped). */
export class NotModifiedError extends EngineError {
  override readonly status = 304;
}

/** 501 */
export class NotImplementedError extends EngineError {
  override readonly status = 501;
}

/** 503 */
export class UnavailableError extends EngineError {
  override readonly status = 503;
}

/** 500 with context: a system component (runc, conmon, mount) failed. */
export class SystemError extends EngineError {
  override readonly status = 500;
}

export function statusOf(err: unknown): number {
  return err instanceof EngineError ? err.status : 500;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
