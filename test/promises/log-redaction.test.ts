/**
 * Promise: a credential or HES code that slips into a logged object never reaches a log line.
 * Modules log masked values only; the service's logger redacts by field name as the second line
 * of defence, and this test breaks when one of those names stops being redacted. (Seam: the
 * service's own logger factory, as `startHesGate` and `hes-gate serve` use it.)
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';
import { LogCapture } from '../http/helpers.js';

const SECRET = 'S3cr3tV4lue-9F';

// Each field name that may carry a credential, health code, QR payload or card id.
const FIELDS = ['password', 'token', 'authorization', 'hesCode', 'hes_code', 'qr', 'card', 'cardId'];

describe('log redaction', () => {
  it.each(FIELDS)('redacts "%s" at the top level and one level down', (field) => {
    const logs = new LogCapture();
    const logger = createLogger('info', logs);
    logger.info({ [field]: SECRET }, 'top level');
    logger.warn({ ministry: { [field]: SECRET } }, 'nested');
    logger.child({ component: 'devices' }).error({ tap: { [field]: SECRET } }, 'in a child logger');
    expect(logs.lines).toHaveLength(3);
    expect(logs.raw.join('\n')).not.toContain(SECRET);
    expect(logs.lines[0]![field]).toBe('[redacted]');
    expect((logs.lines[1]!.ministry as Record<string, unknown>)[field]).toBe('[redacted]');
  });

  it('redacts a request authorization header', () => {
    const logs = new LogCapture();
    createLogger('info', logs).info({ req: { method: 'POST', headers: { authorization: `Bearer ${SECRET}` } } }, 'request');
    expect(logs.raw.join('\n')).not.toContain(SECRET);
    expect(logs.lines[0]).toMatchObject({ req: { method: 'POST', headers: { authorization: '[redacted]' } } });
  });
});
