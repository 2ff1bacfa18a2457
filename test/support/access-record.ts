import type { AccessRecord } from '../../src/audit/application/access-log-chain.js';

/** An access log entry of a mutation by Alice, under `correlationId`, naming `committed` (or no event). */
export const accessRecord = (correlationId: string, committed: AccessRecord['committed'] = null): AccessRecord => ({
  at: new Date().toISOString(),
  actorId: 'alice',
  actorName: 'Alice',
  actorRoles: ['ASSET_MANAGER'],
  operationName: 'R',
  operationType: 'mutation',
  fields: ['registerAsset'],
  targetIds: [],
  outcome: 'ALLOWED',
  errorCode: null,
  correlationId,
  committed,
});
