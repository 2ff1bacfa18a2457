/**
 * server.ts's reportStartFailure: a refusal by which the server protects its data is one line,
 * `start-up refused: …`, without a stack trace; a fault of ours is logged with its stack. The
 * shared access log at a schema this build cannot use was logged as a fault until the upgrade probe
 * of 2026-12-06 (F4).
 */
import { describe, expect, it } from '@jest/globals';
import { AccessLogRefusedError, AccessLogSchemaError } from '../../../src/audit/application/access-log.js';
import { reportStartFailure } from '../../../src/server.js';
import type { JsonLogger } from '../../../src/shared/logging/json-logger.js';

function reported(error: unknown): Array<{ msg: string; fields: Record<string, unknown> }> {
  const lines: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const log = { error: (msg: string, fields: Record<string, unknown> = {}) => lines.push({ msg, fields }) } as unknown as JsonLogger;
  reportStartFailure(error, log);
  return lines;
}

describe('start-up refusals', () => {
  it.each([
    ['the access log at a newer schema', new AccessLogSchemaError('the access log in schema risk_ledger has version 3; this build knows up to 2'), 'AccessLogSchemaError'],
    ['the access log to be migrated under a running instance', new AccessLogSchemaError('an instance is running on this database'), 'AccessLogSchemaError'],
    ['an access log that cannot be continued', new AccessLogRefusedError([{ kind: 'ACCESS_LOG_MISSING', fromSeq: 1, note: 'it was deleted' }]), 'AccessLogRefusedError'],
  ])('%s: one line, refused, no stack', (_what, error, name) => {
    const lines = reported(error);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/^start-up refused: /);
    expect(lines[0]!.fields).toEqual({ error: name });
    expect(JSON.stringify(lines)).not.toMatch(/\n\s+at /);
  });

  it('a plain error is a fault of ours, logged as such', () => {
    const error = new Error('something of ours');
    const lines = reported(error);
    expect(lines).toEqual([{ msg: 'start-up failed', fields: error }]);
  });
});
