import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { RacingStore } from '../../support/racing-store.js';
import { CommandExecutor, type CommandContext } from '../../../src/shared/application/command-executor.js';
import { CommandAdmissions } from '../../../src/shared/application/command-admission.js';
import { FEATURES } from '../../../src/features.js';
import { upcastersOf } from '../../../src/platform/feature-contribution.js';
import { UnauthenticatedError } from '../../../src/shared/domain/errors.js';
import { criteriaDecider, criteriaStreamId, type CriteriaCommand } from '../../../src/risk-criteria/domain/criteria.decider.js';
import { TOKEN_REVOCATIONS_STREAM } from '../../../src/identity/domain/token-revocation.decider.js';
import { revocationAdmission } from '../../../src/identity/application/revocation-admission.js';
import { TokenRevocations } from '../../../src/identity/token-revocations.js';
import { criteria3x3 } from '../../support/criteria-definitions.js';

/**
 * The token revocations judged at each client command's append (race probe of 2026-12-07, F3):
 * the revocations stream is appended with the command as a bare version check, the in-memory list
 * standing for its first read. A revocation committed between that read and the append (here, by
 * a RacingStore, right before it) makes the command decide again, and be refused.
 */

const member = { id: 'u-com', name: 'Committee', roles: ['COMMITTEE_MEMBER' as const] };
const issuedAt = Math.floor(Date.now() / 1000) - 60;
const clientCtx = (credential?: { issuedAt?: number }): CommandContext => ({ actor: member, at: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID(), ...(credential ? { credential } : {}) });
const propose = (): CriteriaCommand => ({ type: 'ProposeRiskCriteria', criteriaId: randomUUID(), definition: criteria3x3(), actor: member, at: new Date().toISOString() });

async function setup() {
  const store = new RacingStore();
  await store.init();
  const upcasters = upcastersOf(FEATURES);
  // The list as the feed leaves it on an empty stream: loaded, nothing revoked.
  const revocations = new TokenRevocations();
  revocations.caughtUp(-1);
  const admissions = new CommandAdmissions();
  admissions.add(revocationAdmission(revocations));
  const executor = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters, undefined, { admissions });
  const revoke = async (subject: string) => {
    const version = await store.streamVersion(TOKEN_REVOCATIONS_STREAM);
    await store.append(
      TOKEN_REVOCATIONS_STREAM,
      [{ eventId: randomUUID(), type: 'TokensRevoked', schemaVersion: upcasters.schemaVersionOf('TokensRevoked'), data: { subject, revokedAt: new Date().toISOString(), reason: 'Left', revokedBy: 'admin' }, metadata: { actor: { id: 'admin', name: 'Admin', roles: ['ADMIN'] }, occurredAt: new Date().toISOString(), correlationId: 'x', causationId: 'x' } }],
      { expectedVersion: ExpectedVersion.exact(version) },
    );
  };
  const criteriaEvents = async () => (await store.readStream(criteriaStreamId())).length;
  return { store, executor, revoke, criteriaEvents };
}

describe('a client command judged against the token revocations at its append', () => {
  it('is refused UNAUTHENTICATED when its token is revoked between its check and its append, and writes nothing', async () => {
    const { store, executor, revoke, criteriaEvents } = await setup();
    store.raceOnce(() => revoke(member.id));
    await expect(executor.execute({ streamId: criteriaStreamId(), decider: criteriaDecider }, propose(), clientCtx({ issuedAt }))).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(await criteriaEvents()).toBe(0);
  });

  it('is written when another subject is revoked meanwhile (decided again on the stream read, not refused)', async () => {
    const { store, executor, revoke, criteriaEvents } = await setup();
    store.raceOnce(() => revoke('someone-else'));
    await executor.execute({ streamId: criteriaStreamId(), decider: criteriaDecider }, propose(), clientCtx({ issuedAt }));
    expect(await criteriaEvents()).toBe(1);
  });

  it('is written with a token issued after the revocation (beyond the clock tolerance), and refused without iat', async () => {
    const { executor, revoke, criteriaEvents } = await setup();
    await revoke(member.id);
    await executor.execute({ streamId: criteriaStreamId(), decider: criteriaDecider }, propose(), clientCtx({ issuedAt: Math.floor(Date.now() / 1000) + 31 }));
    expect(await criteriaEvents()).toBe(1);
    await expect(executor.execute({ streamId: criteriaStreamId(), decider: criteriaDecider }, propose(), clientCtx({}))).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(await criteriaEvents()).toBe(1);
  });

  it("does not judge the system's own commands (no credential): a reaction of a revoked person's write still runs", async () => {
    const { store, executor, revoke, criteriaEvents } = await setup();
    store.raceOnce(() => revoke(member.id));
    await executor.execute({ streamId: criteriaStreamId(), decider: criteriaDecider }, propose(), clientCtx());
    expect(await criteriaEvents()).toBe(1);
  });
});
