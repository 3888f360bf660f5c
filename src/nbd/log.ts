/** Optional structured logging hook; the server never prints on its own. */
export type NbdLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type NbdLog = (level: NbdLogLevel, message: string, fields?: Record<string, unknown>) => void;

export const silentLog: NbdLog = () => {};

/** A log hook that throws must not take a connection (or the process) down with it. */
export function guardLog(log: NbdLog): NbdLog {
  return (level, message, fields) => {
    try {
      log(level, message, fields);
    } catch {
      // Logging is best effort.
    }
  };
}

/** A protocol violation by the peer: we log it and drop the connection (a "hard disconnect"). */
export class ProtocolError extends Error {
  readonly code = 'NBD_PROTOCOL_ERROR';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
