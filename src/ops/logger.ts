import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/schema.js';

export type { Logger };

/**
 * JSON logs on stdout. Redaction is a second line of defence: modules log masked values
 * only, and these paths catch a credential or code that slips into a logged object anyway.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream, station?: string): Logger {
  return pino(
    {
      level,
      // Every line says which service and which station wrote it, at an ISO 8601 time: a city's
      // log pipeline merges hundreds of stations.
      base: station === undefined ? { service: 'hes-gate' } : { service: 'hes-gate', station },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'password', '*.password', 'token', '*.token', 'authorization', '*.authorization',
          'req.headers.authorization', 'hesCode', '*.hesCode', 'hes_code', '*.hes_code',
          'qr', '*.qr', 'card', '*.card', 'cardId', '*.cardId',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
