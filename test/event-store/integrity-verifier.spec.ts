import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { OwnSignatures, headMessage, signerFor, signingKeysFor, trustedPublicKey, TrustedKeys } from '../../src/event-store/signing.js';
import { InMemoryEventStore } from '../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type RecordedEvent } from '../../src/event-store/event-store.port.js';
import { LogFormatError, readLog, verifyEvents, verifyStore } from '../../src/event-store/integrity-verifier.js';

const meta = { actor: { id: 'u', name: 'U', roles: ['CISO'] }, occurredAt: '2025-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' };

async function sampleStore(events = 25): Promise<InMemoryEventStore> {
  const store = new InMemoryEventStore();
  for (let i = 0; i < events; i++) {
    const streamId = `s-${i % 4}`;
    await store.append(streamId, [{ eventId: randomUUID(), type: 'T', schemaVersion: 1, data: { i }, metadata: meta }], { expectedVersion: ExpectedVersion.exact(Math.floor(i / 4) - 1) });
  }
  return store;
}

async function all(store: InMemoryEventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of readLog(store, { pageSize: 7 })) out.push(e);
  return out;
}

describe('the integrity verifier core', () => {
  it('verifies any store page by page (page boundaries included)', async () => {
    const store = await sampleStore();
    for (const pageSize of [1, 4, 25, 1000]) {
      expect(await verifyStore(store, { pageSize })).toMatchObject({ ok: true, eventsChecked: 25, streams: 4, headPosition: '0000000000000000025' });
    }
    expect(await verifyStore(new InMemoryEventStore())).toEqual({ ok: true, eventsChecked: 0, firstBrokenPosition: null, reason: null, headPosition: null, headChainHash: null, streams: 0, signaturesChecked: 0 });
  });

  it('falls back to the per-stream chains for a log without global links, unless the source is known to write them', async () => {
    const events = (await all(await sampleStore())).map((e) => ({ ...e, chainHash: undefined }));
    expect((await verifyEvents(events)).report).toMatchObject({ ok: true, headChainHash: null });
    const strict = (await verifyEvents(events, { requireChain: true })).report;
    expect(strict).toMatchObject({ ok: false, firstBrokenPosition: events[0]!.position });
    expect(strict.reason).toMatch(/chainHash missing/);
  });

  it('treats a missing link after present ones as a cut chain', async () => {
    const events = await all(await sampleStore());
    events[10] = { ...events[10]!, chainHash: undefined };
    const { report } = await verifyEvents(events);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: events[10]!.position, eventsChecked: 11 });
    expect(report.reason).toMatch(/chainHash missing .*cut or stripped/);
  });

  it('requires strictly increasing positions', async () => {
    const events = await all(await sampleStore());
    const reordered = [...events.slice(0, 5), events[3]!, ...events.slice(5)];
    const { report } = await verifyEvents(reordered);
    expect(report.ok).toBe(false);
    expect(report.reason).toMatch(/must strictly increase/);
  });

  it('turns a malformed source into a broken report and stops there', async () => {
    const events = await all(await sampleStore());
    async function* source() {
      yield events[0]!;
      throw new LogFormatError('line 2 of the export is not valid JSON');
    }
    expect((await verifyEvents(source())).report).toMatchObject({ ok: false, eventsChecked: 1, reason: 'line 2 of the export is not valid JSON' });
  });
});

describe('signed commits and hash versions', () => {
  const keys = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return { signer: signerFor(privateKey), trusted: new TrustedKeys([publicKey]) };
  };
  const append = (store: InMemoryEventStore, streamId: string, n: number, options: { hashVersion?: number } = {}) =>
    store.append(streamId, Array.from({ length: n }, (_, i) => ({ eventId: randomUUID(), type: 'T', schemaVersion: 1, data: { i }, metadata: meta })), { expectedVersion: ExpectedVersion.any, ...options });

  async function signedLog() {
    const k = keys();
    const store = new InMemoryEventStore({ signer: k.signer });
    await append(store, 'a', 2);
    await append(store, 'b', 1);
    await append(store, 'a', 3);
    return { ...k, store, events: await all(store), signatures: await store.readSignatures() };
  }

  it('accepts a log whose signed commits tile it, and counts the signatures', async () => {
    const { trusted, events, signatures } = await signedLog();
    expect(signatures.map((s) => [s.firstPosition, s.position])).toEqual([[pos(1), pos(2)], [pos(3), pos(3)], [pos(4), pos(6)]]);
    expect((await verifyEvents(events, { trusted, signatures })).report).toMatchObject({ ok: true, eventsChecked: 6, signaturesChecked: 3 });
  });

  it('refuses an event slipped in between two signed commits, although the next commit chains through it', async () => {
    const { trusted, signatures, store } = await signedLog();
    // The second commit's signature claims to start at 3; pretend another writer wrote 3 and the signer then wrote 4..6.
    const events = await all(store);
    const sneaky = signatures.filter((s) => s.position !== pos(3));
    expect((await verifyEvents(events, { trusted, signatures: sneaky })).report).toMatchObject({ ok: false, firstBrokenPosition: pos(3), reason: expect.stringMatching(/lies in no signed commit/) });
  });

  it('two events of the log swapped (the lines of an export reordered): broken at the signed head they move, named as a deletion, insertion or reordering (auditor probe F10)', async () => {
    const { trusted, events, signatures } = await signedLog();
    const swapped = [events[0]!, events[2]!, events[1]!, ...events.slice(3)];
    const { report } = await verifyEvents(swapped, { trusted, signatures });
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(2), reason: expect.stringMatching(/names no event of the log: events were deleted, inserted or reordered/) });
  });

  it('refuses signatures by a key it does not trust, at the first event of the commit', async () => {
    const { events, signatures } = await signedLog();
    expect((await verifyEvents(events, { trusted: keys().trusted, signatures })).report).toMatchObject({ ok: false, firstBrokenPosition: pos(1), reason: expect.stringMatching(/does not trust/) });
  });

  it('refuses a version-1 event after a version-2 one; accepts an unsigned version-1 prefix before the first signed commit', async () => {
    const k = keys();
    const legacy = new InMemoryEventStore();
    await append(legacy, 'old', 2, { hashVersion: 1 });
    const events = await all(legacy);
    expect(events.map((e) => e.hashVersion)).toEqual([1, 1]);
    // Then a signing server takes over the same log (simulated: the same events, then a signed commit).
    const upgraded = new InMemoryEventStore({ signer: k.signer });
    await upgraded.append('old', events.map((e) => ({ eventId: e.eventId, type: e.type, schemaVersion: e.schemaVersion, data: e.data, metadata: e.metadata })), { expectedVersion: ExpectedVersion.noStream, hashVersion: 1 });
    // (that import-style append is itself a signed commit: a legacy prefix is only unsigned before the first signature)
    const [first] = await upgraded.readSignatures();
    const legacyOnly = await all(upgraded);
    expect((await verifyEvents(legacyOnly, { trusted: k.trusted, signatures: [] })).report).toMatchObject({ ok: true }); // all version 1, never signed: accepted
    expect((await verifyEvents(legacyOnly, { trusted: k.trusted, signatures: [first!] })).report).toMatchObject({ ok: true, signaturesChecked: 1 });
    await append(upgraded, 'new', 1);
    await expect(append(upgraded, 'old', 1, { hashVersion: 1 })).resolves.toBeDefined();
    const mixed = await all(upgraded);
    expect((await verifyEvents(mixed)).report).toMatchObject({ ok: false, firstBrokenPosition: pos(4), reason: expect.stringMatching(/hash version 1 .* follows version 2/) });
  });

  it('an import (requireSigned) takes a version-1 prefix that a trusted signed head covers, as an upgraded installation exports it; never a history no head covers', async () => {
    const k = keys();
    const store = new InMemoryEventStore({ signer: k.signer });
    await append(store, 'old', 2, { hashVersion: 1 });
    await append(store, 'new', 1);
    const events = await all(store);
    const [, signedLater] = await store.readSignatures();
    // The prefix was written before signing existed: no head of its own, only the later one, whose
    // chain link covers it (nobody without the key can change a byte of it).
    expect((await verifyEvents(events, { trusted: k.trusted, signatures: [signedLater!], requireSigned: true })).report).toMatchObject({ ok: true, signaturesChecked: 1 });
    // The same prefix with no signed head after it proves nothing: refused, as before.
    const prefix = events.slice(0, 2);
    expect((await verifyEvents(prefix, { trusted: k.trusted, signatures: [], requireSigned: true })).report).toMatchObject({ ok: false, reason: expect.stringMatching(/covered by no signed head/) });
    // A version-2 event before the first head is no legacy prefix: refused.
    const unsignedV2 = new InMemoryEventStore({ signer: k.signer });
    await append(unsignedV2, 'x', 1);
    await append(unsignedV2, 'y', 1);
    const [, second] = await unsignedV2.readSignatures();
    expect((await verifyEvents(await all(unsignedV2), { trusted: k.trusted, signatures: [second!], requireSigned: true })).report).toMatchObject({ ok: false, firstBrokenPosition: pos(1), reason: expect.stringMatching(/lies in no signed commit/) });
  });
});

describe('signatures this process made (OwnSignatures): not verified again, and nothing else is taken on trust', () => {
  async function ownLog() {
    const { privateKey } = generateKeyPairSync('ed25519');
    const k = signingKeysFor(privateKey);
    const store = new InMemoryEventStore({ signer: k.signer });
    for (const [streamId, n] of [['a', 2], ['b', 1], ['a', 3]] as const) {
      await store.append(streamId, Array.from({ length: n }, (_, i) => ({ eventId: randomUUID(), type: 'T', schemaVersion: 1, data: { i }, metadata: meta })), { expectedVersion: ExpectedVersion.any });
    }
    return { ...k, privateKey, events: await all(store), signatures: await store.readSignatures() };
  }

  it('accepts its own commits read back, counting each signature', async () => {
    const { trusted, events, signatures } = await ownLog();
    expect((await verifyEvents(events, { trusted, signatures })).report).toMatchObject({ ok: true, eventsChecked: 6, signaturesChecked: 3 });
  });

  it('still refuses a signature edited in the log, and an event slipped in between its commits', async () => {
    const { trusted, events, signatures } = await ownLog();
    const flipped = Buffer.from(signatures[1]!.signature, 'base64');
    flipped[0]! ^= 1;
    const edited = signatures.map((s, i) => (i === 1 ? { ...s, signature: flipped.toString('base64') } : s));
    expect((await verifyEvents(events, { trusted, signatures: edited })).report).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });
    // The same signature moved to another head is another message: verified, and refused.
    const moved = signatures.map((s, i) => (i === 1 ? { ...s, chainHash: signatures[0]!.chainHash } : s));
    expect((await verifyEvents(events, { trusted, signatures: moved })).report.ok).toBe(false);
    expect((await verifyEvents(events, { trusted, signatures: signatures.filter((_, i) => i !== 1) })).report).toMatchObject({ ok: false, reason: expect.stringMatching(/lies in no signed commit/) });
  });

  it('consults what it made only for a key it trusts', async () => {
    const { events, signatures } = await ownLog();
    const stranger = generateKeyPairSync('ed25519').publicKey;
    const own = new OwnSignatures();
    for (const s of signatures) own.remember(s.kid, headMessage('log', s.position, s.chainHash, s.firstPosition).toString('latin1'), s.signature);
    expect((await verifyEvents(events, { trusted: new TrustedKeys([stranger], own), signatures })).report).toMatchObject({ ok: false, reason: expect.stringMatching(/does not trust/) });
  });

  it('answers from what it made without verifying (so it must only ever hold what our signer made), and forgets the oldest past its limit', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = signerFor(privateKey);
    const own = new OwnSignatures(2);
    const trusted = new TrustedKeys([publicKey], own);
    // Not a valid signature of that message: accepted only because the memo says we made it.
    const head = { position: pos(1), chainHash: 'c1', kid: signer.kid, signature: signer.sign('log', pos(9), 'other').signature };
    expect(trusted.check('log', head)).toMatch(/does not verify/);
    own.remember(signer.kid, headMessage('log', head.position, head.chainHash).toString('latin1'), head.signature);
    expect(trusted.check('log', head)).toBeNull();
    own.remember('k', 'm2', 's2');
    own.remember('k', 'm3', 's3');
    expect(trusted.check('log', head)).toMatch(/does not verify/);
  });
});

const pos = (n: number) => n.toString().padStart(19, '0');

describe('trusted keys: Ed25519 only, one check for every way in', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ed = generateKeyPairSync('ed25519');

  it('takes an Ed25519 public key, from a PEM or as a key object', () => {
    const pem = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(trustedPublicKey(pem).asymmetricKeyType).toBe('ed25519');
    expect(TrustedKeys.fromPems([pem]).size).toBe(1);
    expect(new TrustedKeys([ed.publicKey]).size).toBe(1);
  });

  it('refuses any other kind of key, whichever way it comes', () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => trustedPublicKey(pem)).toThrow(/is not an Ed25519 key/);
    expect(() => TrustedKeys.fromPems([pem])).toThrow(/is not an Ed25519 key/);
    expect(() => new TrustedKeys([rsa.publicKey])).toThrow(/Trusted key .* is not an Ed25519 key/);
    expect(() => signingKeysFor(ed.privateKey, [rsa.publicKey])).toThrow(/is not an Ed25519 key/);
  });
});
