const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const POSTGRES_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|the database system is (starting up|shutting down)/i;
const REDIS_MESSAGES = /Stream isn't writeable|enableOfflineQueue|Connection is closed|MaxRetriesPerRequest|max retries per request/i;

/**
 * Names the backing service an error says is unreachable (Postgres or Redis), or returns null
 * for any other error. Such failures become 503s: the request did nothing and may be retried.
 */
export function unavailableDependency(error: unknown): string | null {
  for (let current = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown } | undefined, depth = 0; current && depth < 4; depth++) {
    const code = typeof current.code === 'string' ? current.code : '';
    const message = typeof current.message === 'string' ? current.message : '';
    // SQLSTATE class 08 (connection exception) and 57P01-03 (server shutting down / starting up).
    if (/^(08|57P0[1-3])/.test(code) || POSTGRES_MESSAGES.test(message)) return 'The database (Postgres)';
    if (REDIS_MESSAGES.test(message)) return 'The coordination store (Redis)';
    if (NETWORK_CODES.has(code)) return 'A backing service';
    current = (current.driverError ?? current.cause) as typeof current;
  }
  return null;
}
