import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { RacingStore } from '../../support/racing-store.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { CommandExecutor, type CommandContext } from '../../../src/shared/application/command-executor.js';
import { FEATURES } from '../../../src/features.js';
import { AggregateReader } from '../../../src/shared/application/aggregate-reader.js';
import { upcastersOf } from '../../../src/platform/feature-contribution.js';

const createUpcasters = () => upcastersOf(FEATURES);
import { BadInputError, ConcurrencyConflictError, ForbiddenError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { EventUpcasters } from '../../../src/shared/application/event-upcasting.js';
import type { Decider } from '../../../src/shared/domain/decider.js';
import { withNameReservation } from '../../../src/asset-inventory/application/asset-name-reservation.js';
import type { AssetCommand } from '../../../src/asset-inventory/domain/asset.decider.js';
import { criteriaById, criteriaDecider, criteriaStreamId, type CriteriaCommand } from '../../../src/risk-criteria/domain/criteria.decider.js';
import { criteria3x3 } from '../../support/criteria-definitions.js';

const definition = criteria3x3;

const member = { id: 'u-com', name: 'Committee', roles: ['COMMITTEE_MEMBER' as const] };
const ciso = { id: 'u-ciso', name: 'CISO', roles: ['CISO' as const] };
const ctx = (actor: CommandContext['actor']): CommandContext => ({ actor, at: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID() });


describe('CommandExecutor with an entityVersion (several entities in one stream)', () => {
  const setup = async () => {
    const store = new RacingStore();
    await store.init();
    const upcasters = createUpcasters();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters);
    const target = (id: string) => ({ streamId: criteriaStreamId(id), decider: criteriaDecider, entityVersion: (s: Parameters<typeof criteriaById>[0]) => criteriaById(s, id)?.version ?? -1 });
    const propose = (id: string): CriteriaCommand => ({ type: 'ProposeRiskCriteria', criteriaId: id, definition: definition(), actor: member, at: new Date().toISOString() });
    return { store, executor, target, propose, upcasters };
  };

  it('is not a conflict when another entity of the stream was written between read and append', async () => {
    const { store, executor, target, propose, upcasters } = await setup();
    const a = (await executor.execute(target('a'), propose('a'), ctx(member))).state;
    const version = criteriaById(a, 'a')!.version;
    // Someone proposes version b while the CISO approves a with the version they read.
    store.raceOnce(async () => {
      const current = await store.streamVersion(criteriaStreamId());
      const [e] = criteriaDecider.decide(propose('b'), await new AggregateReader(store, upcasters).state(criteriaStreamId(), criteriaDecider));
      await store.append(criteriaStreamId(), [{ eventId: randomUUID(), type: e!.type, schemaVersion: upcasters.schemaVersionOf(e!.type), data: e!.data as Record<string, unknown>, metadata: { actor: member, occurredAt: new Date().toISOString(), correlationId: 'x', causationId: 'x' } }], { expectedVersion: ExpectedVersion.exact(current) });
    });
    const approve: CriteriaCommand = { type: 'ApproveRiskCriteria', criteriaId: 'a', expectedVersion: version, actor: ciso, at: new Date().toISOString() };
    const result = await executor.execute(target('a'), approve, ctx(ciso), version);
    expect(criteriaById(result.state, 'a')).toMatchObject({ status: 'IN_FORCE' });
    expect(criteriaById(result.state, 'b')).toMatchObject({ status: 'PROPOSED', number: 2 });
  });

  it("is a conflict, naming the entity's own version, when that entity was written between read and append", async () => {
    const { store, executor, target, propose } = await setup();
    const a = (await executor.execute(target('a'), propose('a'), ctx(member))).state;
    const version = criteriaById(a, 'a')!.version;
    const approve = (expectedVersion?: number): CriteriaCommand => ({ type: 'ApproveRiskCriteria', criteriaId: 'a', expectedVersion, actor: ciso, at: new Date().toISOString() });
    store.raceOnce(async () => {
      await executor.execute(target('a'), approve(), ctx({ ...ciso, id: 'u-ciso-2' }));
    });
    const error = await executor.execute(target('a'), approve(version), ctx(ciso), version).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflictError);
    expect(error).toMatchObject({ expectedVersion: version, actualVersion: version + 1 });
  });
});

describe('CommandExecutor.executeJoint (a decision over several streams, appended atomically)', () => {
  const manager = { id: 'u-mgr', name: 'Manager', roles: ['ASSET_MANAGER' as const], department: 'ops' };
  const register = (name: string): AssetCommand => ({
    type: 'RegisterAsset', actor: manager, at: new Date().toISOString(), assetId: randomUUID(), name, description: '', category: 'SYSTEM',
    department: 'ops', managerId: manager.id, confidentiality: 2, integrity: 2, availability: 2,
  });

  it('decides again when a stream it read was written between read and append, and the rule then refuses', async () => {
    const store = new RacingStore();
    await store.init();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, createUpcasters());
    const rival = register('ﾃﾞｰﾀ基盤');
    store.raceOnce(async () => {
      await executor.executeJoint(withNameReservation(rival), ctx(manager));
    });
    const mine = register('データ基盤');
    const error = await executor.executeJoint(withNameReservation(mine), ctx(manager)).catch((e: unknown) => e);
    expect(error).toMatchObject({ rule: 'ASSET_NAME_TAKEN' });
    expect(await store.streamVersion(`asset-${mine.assetId}`)).toBe(-1);
    expect(await store.streamVersion(`asset-${rival.assetId}`)).toBe(0);
  });

  it('a command without expectedVersion that loses more than 64 rounds in a row is still retried, within its time budget (probe p10)', async () => {
    const store = new RacingStore();
    await store.init();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, createUpcasters());
    const asset = register('Hot wallet');
    await executor.executeJoint(withNameReservation(asset), ctx(manager));
    const threat = (name: string): AssetCommand => ({ type: 'IdentifyThreat', actor: manager, at: new Date().toISOString(), assetId: asset.assetId, threatId: randomUUID(), name, description: '', affects: ['CONFIDENTIALITY'] });
    let lost = 0;
    // Another command gets in before each of this one's first 70 appends (new commands joining the race).
    const race = async (): Promise<void> => {
      lost++;
      await executor.executeJoint(withNameReservation(threat(`Other ${lost}`)), ctx(manager));
      if (lost < 70) store.raceOnce(race);
    };
    store.raceOnce(race);
    const result = await executor.executeJoint(withNameReservation(threat('Mine')), ctx(manager));
    expect(lost).toBe(70);
    expect(result.events).toHaveLength(1);
    expect(await store.streamVersion(`asset-${asset.assetId}`)).toBe(71); // registered, 70 others' threats, then this one
  }, 30_000);

  it('16 racing commands on one stream without expectedVersion all succeed (retried on fresh state)', async () => {
    const store = new InMemoryEventStore();
    await store.init();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, createUpcasters());
    const asset = register('Hot wallet');
    await executor.executeJoint(withNameReservation(asset), ctx(manager));
    const threats = Array.from({ length: 16 }, (_, k): AssetCommand => ({
      type: 'IdentifyThreat', actor: manager, at: new Date().toISOString(), assetId: asset.assetId, threatId: randomUUID(), name: `Threat ${k}`, description: '', affects: ['CONFIDENTIALITY'],
    }));
    const results = await Promise.all(threats.map((t) => executor.executeJoint(withNameReservation(t), ctx(manager))));
    expect(results.every((r) => r.events.length === 1)).toBe(true);
    expect(await store.streamVersion(`asset-${asset.assetId}`)).toBe(16);
  });

  it('refuses any token carrying AUDITOR, whatever else it carries, before reading anything', async () => {
    const store = new InMemoryEventStore();
    await store.init();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, createUpcasters());
    const mixed = { ...manager, roles: ['ASSET_MANAGER' as const, 'AUDITOR' as const] };
    await expect(executor.executeJoint(withNameReservation({ ...register('X'), actor: mixed }), ctx(mixed))).rejects.toBeInstanceOf(ForbiddenError);
    expect(await store.headPosition()).toBeNull();
  });
});

describe('CommandExecutor awaiting the reaction cascade', () => {
  const manager = { id: 'u-mgr', name: 'Manager', roles: ['ASSET_MANAGER' as const], department: 'ops' };
  const register = (name: string): AssetCommand => ({
    type: 'RegisterAsset', actor: manager, at: new Date().toISOString(), assetId: randomUUID(), name, description: '', category: 'SYSTEM',
    department: 'ops', managerId: manager.id, confidentiality: 2, integrity: 2, availability: 2,
  });
  /** Counts the log reads the cascade makes. */
  class CountingStore extends InMemoryEventStore {
    reads = 0;
    override async readAll(...args: Parameters<InMemoryEventStore['readAll']>) {
      this.reads++;
      return super.readAll(...args);
    }
  }

  it('looks for the cascade only when one of the events sets a reaction off', async () => {
    const store = new CountingStore();
    await store.init();
    const waited: string[] = [];
    const executorReactingTo = (types: string[]) =>
      new CommandExecutor(store, { waitFor: async (p) => void waited.push(p) }, createUpcasters(), undefined, { awaitReactionCascade: true, reactsTo: (type) => types.includes(type) });
    await executorReactingTo(['RiskClosed']).executeJoint(withNameReservation(register('Signer A')), ctx(manager));
    expect(store.reads).toBe(0);
    // It still waits for the followers to reach its own events.
    expect(waited).toEqual([await store.headPosition()]);
    await executorReactingTo(['AssetRegistered']).executeJoint(withNameReservation(register('Signer B')), ctx(manager));
    expect(store.reads).toBe(1);
  });
});

describe('CommandExecutor: the instants of a stream never go back', () => {
  type Stamped = { type: 'Stamped'; data: { at: string } };
  const stamping: Decider<{ at: string }, Stamped, { last?: string }> = {
    initialState: {},
    decide: (c) => [{ type: 'Stamped', data: { at: c.at } }],
    evolve: (_s, e) => ({ last: e.data.at }),
  };
  const ctx = (at: string) => ({ actor: { id: 'a', name: 'a', roles: ['CISO' as const] }, at, correlationId: 'c', causationId: 'c' });

  it('a command stamped before the stream\'s last event (its request came first, its decision after) is decided at that event\'s instant', async () => {
    const store = new InMemoryEventStore();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, new EventUpcasters([{ schemaVersions: { Stamped: 1 }, upcast: (_t, _v, data) => data }]));
    const later = '2026-03-01T10:00:00.005Z';
    const earlier = '2026-03-01T10:00:00.001Z';
    await executor.execute({ streamId: 's-1', decider: stamping }, { at: later }, ctx(later));
    const { events } = await executor.execute({ streamId: 's-1', decider: stamping }, { at: earlier }, ctx(earlier));
    expect([events[0]!.data.at, events[0]!.metadata.occurredAt]).toEqual([later, later]);
    // A command stamped after it keeps its own instant; another stream is not held back.
    const after = '2026-03-01T10:00:01.000Z';
    const { events: next } = await executor.execute({ streamId: 's-1', decider: stamping }, { at: after }, ctx(after));
    expect(next[0]!.metadata.occurredAt).toBe(after);
    const { events: other } = await executor.execute({ streamId: 's-2', decider: stamping }, { at: earlier }, ctx(earlier));
    expect(other[0]!.data.at).toBe(earlier);
  });

  it("a followUp is derived from the primary's events, decided once, appended with them, at the instant of every stream written", async () => {
    const store = new InMemoryEventStore();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, new EventUpcasters([{ schemaVersions: { Stamped: 1 }, upcast: (_t, _v, data) => data }]));
    let decisions = 0;
    const counted: typeof stamping = { ...stamping, decide: (c, s) => (decisions++, stamping.decide(c, s)) };
    const later = '2026-03-01T10:00:00.009Z';
    const earlier = '2026-03-01T10:00:00.001Z';
    // The follow-up's stream already has an event later than the command's stamp.
    await executor.execute({ streamId: 'f-1', decider: stamping }, { at: later }, ctx(later));
    const seen: string[][] = [];
    const { events } = await executor.executeJoint(
      async () => ({
        primary: { streamId: 'p-1', decider: counted, command: { at: earlier } },
        followUp: async (primaryEvents) => {
          seen.push(primaryEvents.map((e) => e.type));
          return [{ streamId: 'f-1', decider: stamping, command: { at: earlier } }];
        },
      }),
      ctx(earlier),
    );
    // Decided once, then once more at the later instant the follow-up's stream brought (not once more per caller).
    expect(seen).toEqual([['Stamped']]);
    expect(decisions).toBe(2);
    expect([events[0]!.data.at, events[0]!.metadata.occurredAt]).toEqual([later, later]);
    const followed = await store.readStream('f-1');
    expect(followed.map((e) => e.data.at)).toEqual([later, later]);
    // One append: the primary's event, then the follow-up's, last in the log.
    expect((await store.readAll({ maxCount: 10 })).slice(-2).map((e) => e.streamId)).toEqual(['p-1', 'f-1']);
    // Nothing to follow: decided once.
    decisions = 0;
    await executor.executeJoint(async () => ({ primary: { streamId: 'p-2', decider: counted, command: { at: later } }, followUp: async () => [] }), ctx(later));
    expect(decisions).toBe(1);
  });

  it('follow-ups on one stream are decided in turn, each on the state the earlier ones leave, and appended as one part', async () => {
    const store = new InMemoryEventStore();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, new EventUpcasters([{ schemaVersions: { Stamped: 1, Counted: 1 }, upcast: (_t, _v, data) => data }]));
    // Counts the decisions it has seen: each says how many came before it on this stream.
    type Counted = { type: 'Counted'; data: { seen: number } };
    const counting: Decider<{ at: string }, Counted, { seen: number }> = {
      initialState: { seen: 0 },
      decide: (_c, s) => [{ type: 'Counted', data: { seen: s.seen } }],
      evolve: (s) => ({ seen: s.seen + 1 }),
    };
    const at = '2026-03-01T10:00:00.000Z';
    await executor.execute({ streamId: 'f-2', decider: counting }, { at }, ctx(at));
    await executor.executeJoint(
      async () => ({
        primary: { streamId: 'p-3', decider: stamping, command: { at } },
        followUp: async () => [1, 2, 3].map(() => ({ streamId: 'f-2', decider: counting, command: { at } })),
      }),
      ctx(at),
    );
    expect((await store.readStream('f-2')).map((e) => [e.revision, e.data.seen])).toEqual([[0, 0], [1, 1], [2, 2], [3, 3]]);
    // One append: the primary's event, then the follow-ups' three.
    expect((await store.readAll({ maxCount: 10 })).slice(-4).map((e) => e.streamId)).toEqual(['p-3', 'f-2', 'f-2', 'f-2']);
    // Never on a stream the command decides itself.
    await expect(executor.executeJoint(async () => ({ primary: { streamId: 'p-3', decider: stamping, command: { at } }, followUp: async () => [{ streamId: 'p-3', decider: stamping, command: { at } }] }), ctx(at))).rejects.toThrow('Two decisions on stream p-3');
  });

  describe('a retry whose first request commits between the retry\'s key look-up and its decision answers the first result (PostgreSQL probe F4)', () => {
    const upcasters = () => new EventUpcasters([{ schemaVersions: { Stamped: 1, Refused: 1 }, upcast: (_t, _v, data) => data }]);
    /** The retry's first look-up of the key misses; its first request commits right after it. */
    const racedRetry = async <C, S>(decider: Decider<C, any, S>, command: C, expectedVersion?: number) => {
      const store = new InMemoryEventStore();
      const executor = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters());
      const at = '2026-03-01T10:00:00.000Z';
      const streamId = `s-${randomUUID()}`;
      await executor.execute({ streamId, decider }, command, ctx(at));
      const same = { ...ctx(at), commandId: 'retried-key' };
      const find = store.findIdempotentAppend.bind(store);
      let first: Awaited<ReturnType<typeof executor.execute>> | undefined;
      let raced = false;
      store.findIdempotentAppend = async (key) => {
        const found = await find(key);
        if (!raced) {
          raced = true;
          // Sent to another instance on the same log (an executor with its own reader and queues).
          first = await new CommandExecutor(store, { waitFor: async () => undefined }, upcasters()).execute({ streamId, decider }, command, same, expectedVersion);
        }
        return found;
      };
      const retry = await executor.execute({ streamId, decider }, command, same, expectedVersion);
      return { retry, first: first!, store, streamId };
    };

    it('not CONCURRENCY_CONFLICT for the version its own first request moved', async () => {
      const { retry, first, store, streamId } = await racedRetry(stamping, { at: '2026-03-01T10:00:00.000Z' }, 0);
      expect(retry).toMatchObject({ duplicate: true, events: first.events, position: first.position });
      expect(await store.streamVersion(streamId)).toBe(1);
    });

    it('not a refusal by a rule its own first request now breaks', async () => {
      // Once: a second one is refused (a name now taken, a status already left...).
      const once: Decider<{ at: string }, Stamped, { last?: string }> = {
        ...stamping,
        decide: (c, s) => {
          if (s.last === 'done') throw new ForbiddenError('already done');
          return [{ type: 'Stamped', data: { at: s.last === undefined ? c.at : 'done' } }];
        },
      };
      const { retry, first, store, streamId } = await racedRetry(once, { at: '2026-03-01T10:00:00.000Z' });
      expect(retry).toMatchObject({ duplicate: true, events: first.events });
      expect(await store.streamVersion(streamId)).toBe(1);
    });

    it('not the no-op of a command its own first request satisfied', async () => {
      const toggle: Decider<{ at: string }, Stamped, { last?: string }> = { ...stamping, decide: (c, s) => (s.last === 'on' ? [] : [{ type: 'Stamped', data: { at: s.last === undefined ? c.at : 'on' } }]) };
      const { retry, first } = await racedRetry(toggle, { at: '2026-03-01T10:00:00.000Z' });
      expect(first.events).toHaveLength(1);
      expect(retry).toMatchObject({ duplicate: true, events: first.events });
    });
  });

  it('a commandId another kind of command took while this one was decided (both at once) is BAD_USER_INPUT, not the other\'s answer', async () => {
    const store = new InMemoryEventStore();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, new EventUpcasters([{ schemaVersions: { Stamped: 1 }, upcast: (_t, _v, data) => data }]));
    const at = '2026-03-01T10:00:00.000Z';
    const same = { ...ctx(at), commandId: 'same-key' };
    // The other request commits between this one's idempotency look-up and its append.
    const appendMultiple = store.appendMultiple.bind(store);
    let raced = false;
    store.appendMultiple = async (parts, options) => {
      if (!raced) {
        raced = true;
        await executor.execute({ streamId: `plan-${randomUUID()}`, decider: stamping }, { at }, same);
      }
      return appendMultiple(parts, options);
    };
    await expect(executor.execute({ streamId: `criteria-${randomUUID()}`, decider: stamping }, { at }, same)).rejects.toThrow(BadInputError);
    expect(raced).toBe(true);
  });
});

describe('CommandExecutor: a stream read by its tail (AttemptReader.tail) is version-checked like a stream read whole', () => {
  const noted = (type: string) => ({ eventId: randomUUID(), type, schemaVersion: 1, data: {}, metadata: { actor: member, occurredAt: new Date().toISOString(), correlationId: 'x', causationId: 'x' } });
  const setup = async () => {
    const store = new RacingStore();
    await store.init();
    await store.append('watched-1', [noted('Noted'), noted('Noted')], { expectedVersion: ExpectedVersion.exact(-1) });
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, createUpcasters());
    const propose = (id: string): CriteriaCommand => ({ type: 'ProposeRiskCriteria', criteriaId: id, definition: definition(), actor: member, at: new Date().toISOString() });
    return { store, executor, propose };
  };

  it('gives the events from a revision to the end, and a write to the stream before the append makes the attempt decide again', async () => {
    const { store, executor, propose } = await setup();
    const tails: number[] = [];
    store.raceOnce(async () => {
      await store.append('watched-1', [noted('Noted')], { expectedVersion: ExpectedVersion.exact(1) });
    });
    await executor.executeJoint(async (reader) => {
      tails.push((await reader.tail!('watched-1', 1))!.length);
      return { primary: { streamId: criteriaStreamId(), decider: criteriaDecider, command: propose(`c-${tails.length}`) } };
    }, ctx(member));
    // First attempt: revision 1 only; the race appended revision 2, the append conflicted, the second saw both.
    expect(tails).toEqual([1, 2]);
    expect(await store.streamVersion(criteriaStreamId())).toBe(0);
  });

  it('a state read after a tail read keeps the version the tail saw: a write between the two still conflicts', async () => {
    const { store, executor, propose } = await setup();
    let attempts = 0;
    await executor.executeJoint(async (reader) => {
      attempts++;
      await reader.tail!('watched-1', 0);
      if (attempts === 1) await store.append('watched-1', [noted('Noted')], { expectedVersion: ExpectedVersion.exact(1) });
      await reader.state('watched-1', { initialState: 0, evolve: (n: number) => n + 1 });
      return { primary: { streamId: criteriaStreamId(), decider: criteriaDecider, command: propose(`c-${attempts}`) } };
    }, ctx(member));
    expect(attempts).toBe(2);
  });

  it('gives nothing for a stream that ends before the revision, or that the attempt already read', async () => {
    const { executor, propose } = await setup();
    const seen: unknown[] = [];
    await executor.executeJoint(async (reader) => {
      seen.push(await reader.tail!('watched-1', 5), await reader.tail!('absent', 0));
      await reader.state('watched-1', { initialState: 0, evolve: (n: number) => n + 1 });
      seen.push(await reader.tail!('watched-1', 0));
      return { primary: { streamId: criteriaStreamId(), decider: criteriaDecider, command: propose('c') } };
    }, ctx(member));
    expect(seen).toEqual([undefined, undefined, undefined]);
  });
});

describe('CommandExecutor under contention on one stream (no client-named version)', () => {
  it('queues the retries of commands that lost a race on a stream: 16 slow commands at once take about one attempt each, not a round per winner', async () => {
    // 16 owners accepting at once on a plan of 1,999 items, each attempt slow: one was answered
    // CONCURRENCY_CONFLICT once 64 attempts and 10 s had gone by (bench plan-consent, 2026-12-02).
    // Racing freely, each round lets one through and every loser decides again: 16 commands made
    // 84 attempts here. Queued behind the stream, a loser decides again once the one ahead of it
    // has appended.
    const store = new InMemoryEventStore();
    await store.init();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, createUpcasters());
    let attempts = 0;
    const propose = (id: string) => async (reader: import('../../../src/shared/application/command-executor.js').AttemptReader) => {
      attempts++;
      await reader.state(criteriaStreamId(), criteriaDecider);
      await new Promise((resolve) => setTimeout(resolve, 3));
      const command: CriteriaCommand = { type: 'ProposeRiskCriteria', criteriaId: id, definition: definition(), actor: member, at: new Date().toISOString() };
      return { primary: { streamId: criteriaStreamId(), decider: criteriaDecider, command } };
    };
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => executor.executeJoint(propose(`c${i}`), ctx(member))));
    expect(results.every((r) => r.events.length === 1)).toBe(true);
    expect(await store.streamVersion(criteriaStreamId())).toBe(15);
    // Each of the 15 losers of the first round decides once more (it may lose once more to no one:
    // every command here started together).
    expect(attempts).toBeLessThanOrEqual(16 + 15 + 4);
  });
});

/**
 * Two streams read in one attempt are not one moment of the log when another process writes both
 * between the two reads: the first read shows the state before that write, the second after it.
 * A rule refused on such reads is decided again (race probe 10-a F2: on two PostgreSQL instances,
 * a submitPlan racing removeRiskFromPlan answered RISK_NOT_IN_PLAN for the risk removed meanwhile).
 */
describe('CommandExecutor: a refusal decided on streams written between their reads', () => {
  type Plan = { items: string[]; submitted: boolean };
  type Item = { inPlan: boolean; frozen: boolean };
  const planDecider: Decider<{ type: 'Submit' }, { type: string; data: { id?: string } }, Plan> = {
    initialState: { items: [], submitted: false },
    evolve: (s, e) => (e.type === 'ItemAdded' ? { ...s, items: [...s.items, e.data.id!] } : e.type === 'ItemRemoved' ? { ...s, items: s.items.filter((i) => i !== e.data.id) } : { ...s, submitted: true }),
    decide: (_c, s) => (s.submitted ? [] : [{ type: 'PlanSubmitted', data: {} }]),
  };
  const itemDecider: Decider<{ type: 'Freeze' }, { type: string; data: Record<string, unknown> }, Item> = {
    initialState: { inPlan: false, frozen: false },
    evolve: (s, e) => (e.type === 'ItemIncluded' ? { ...s, inPlan: true } : e.type === 'ItemLeft' ? { ...s, inPlan: false } : { ...s, frozen: true }),
    decide: (_c, s) => {
      if (!s.inPlan) throw new RuleViolationError('ITEM_NOT_IN_PLAN', 'Art.20', 'the item is not in the plan');
      return s.frozen ? [] : [{ type: 'ItemFrozen', data: {} }];
    },
  };
  const event = (type: string, data: Record<string, unknown> = {}) => ({ eventId: randomUUID(), type, schemaVersion: 1, data, metadata: { actor: member, occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID() } });

  it('decides again on fresh reads instead of answering the rule, and writes nothing the rule forbids', async () => {
    const store = new InMemoryEventStore();
    await store.init?.();
    for (const id of ['a', 'b']) {
      await store.append('plan-1', [event('ItemAdded', { id })], { expectedVersion: ExpectedVersion.any });
      await store.append(`item-${id}`, [event('ItemIncluded')], { expectedVersion: ExpectedVersion.noStream });
    }
    // Another process removes item b (both streams, one commit) right after this attempt read the plan.
    const readStream = store.readStream.bind(store);
    let raced = false;
    store.readStream = async (streamId, options) => {
      if (streamId === 'item-a' && !raced) {
        raced = true;
        await store.appendMultiple([
          { streamId: 'plan-1', expectedVersion: ExpectedVersion.exact(1), events: [event('ItemRemoved', { id: 'b' })] },
          { streamId: 'item-b', expectedVersion: ExpectedVersion.exact(0), events: [event('ItemLeft')] },
        ]);
      }
      return readStream(streamId, options);
    };
    const toyEvents = new EventUpcasters([{ schemaVersions: { ItemAdded: 1, ItemRemoved: 1, PlanSubmitted: 1, ItemIncluded: 1, ItemLeft: 1, ItemFrozen: 1 }, upcast: (_t, _v, data) => data }]);
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, toyEvents);
    const result = await executor.executeJoint(async (reader) => {
      const plan = await reader.state('plan-1', planDecider);
      const others = [];
      for (const id of plan.items) {
        await reader.state(`item-${id}`, itemDecider);
        others.push({ streamId: `item-${id}`, decider: itemDecider, command: { type: 'Freeze' as const } });
      }
      return { primary: { streamId: 'plan-1', decider: planDecider, command: { type: 'Submit' as const } }, others };
    }, ctx(member));
    expect(raced).toBe(true);
    expect(result.state).toEqual({ items: ['a'], submitted: true });
    expect((await store.readStream('item-a')).map((e) => e.type)).toEqual(['ItemIncluded', 'ItemFrozen']);
    expect((await store.readStream('item-b')).map((e) => e.type)).toEqual(['ItemIncluded', 'ItemLeft']);
  });
});
