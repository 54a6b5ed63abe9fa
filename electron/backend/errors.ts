/**
 * An error the backend reports to the client on purpose, with the HTTP-like
 * status it crosses the contract with (rpc/session.ts's toWireError reads
 * `status`). Not to be confused with engine/'s errors: this one never leaves
 * the desktop backend.
 */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}
