import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { eventually } from '../support/eventually.js';

const ASSET_FIELDS = `id version name description category department managerId confidentiality integrity availability value status
  threats { id name affects vulnerabilities { id name } }`;
const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { ${ASSET_FIELDS} } }`;
const IDENTIFY_THREAT = `mutation($input: IdentifyThreatInput!) { identifyThreat(input: $input) { ${ASSET_FIELDS} } }`;
const IDENTIFY_VULN = `mutation($input: IdentifyVulnerabilityInput!) { identifyVulnerability(input: $input) { ${ASSET_FIELDS} } }`;
const REASSIGN = `mutation($input: ReassignAssetManagerInput!) { reassignAssetManager(input: $input) { ${ASSET_FIELDS} } }`;
const RETIRE = `mutation($input: RetireAssetInput!) { retireAsset(input: $input) { ${ASSET_FIELDS} retiredAt retirementReason } }`;
const ASSET = `query($id: ID!, $asOf: DateTime) { asset(id: $id, asOf: $asOf) { ${ASSET_FIELDS} } }`;
const ASSETS = `query($first: Int, $after: String, $department: String) { assets(first: $first, after: $after, department: $department) {
  totalCount edges { cursor node { id name department } } pageInfo { hasNextPage endCursor } } }`;

const hotWallet = { name: 'Hot wallet signer', description: 'Signs withdrawals', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 3, integrity: 3, availability: 2 };

describe('asset inventory over GraphQL (Art. 14(2))', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('registers an asset for an asset manager of the department; value is the max rating; the event names the actor', async () => {
    const { registerAsset: a } = await t.ok(REGISTER, { input: hotWallet }, users.opsManager);
    expect(a).toMatchObject({ name: 'Hot wallet signer', version: 0, value: 3, status: 'ACTIVE', threats: [] });
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type streamId revision position hash prevHash metadata { actor { id name roles } roles occurredAt correlationId causationId } data } }`, { id: a.id }, users.auditor);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ type: 'AssetRegistered', revision: 0, metadata: { actor: { id: 'mgr-ops', name: 'Ops Manager', roles: ['ASSET_MANAGER'] }, roles: ['ASSET_MANAGER'] } });
    expect(history[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(history[0].data).toMatchObject({ name: 'Hot wallet signer', value: 3 });
  });

  it('identifies threats and vulnerabilities, reassigns the manager and retires the asset, each returning the new state', async () => {
    const { registerAsset: a } = await t.ok(REGISTER, { input: { ...hotWallet, name: 'Customer database', category: 'INFORMATION', availability: 1 } }, users.ciso);
    const { identifyThreat: withThreat } = await t.ok(IDENTIFY_THREAT, { input: { assetId: a.id, name: 'Data exfiltration', affects: ['CONFIDENTIALITY'] } }, users.opsManager);
    expect(withThreat.version).toBe(1);
    const threat = withThreat.threats[0];
    expect(threat).toMatchObject({ name: 'Data exfiltration', affects: ['CONFIDENTIALITY'], vulnerabilities: [] });
    const { identifyVulnerability: withVuln } = await t.ok(IDENTIFY_VULN, { input: { assetId: a.id, threatId: threat.id, name: 'Unencrypted backups' } }, users.opsManager);
    expect(withVuln.threats[0].vulnerabilities[0].name).toBe('Unencrypted backups');
    const { reassignAssetManager: reassigned } = await t.ok(REASSIGN, { input: { assetId: a.id, managerId: 'mgr-ops-2', expectedVersion: 2 } }, users.opsManager);
    expect(reassigned).toMatchObject({ managerId: 'mgr-ops-2', version: 3 });
    const { retireAsset: retired } = await t.ok(RETIRE, { input: { assetId: a.id, reason: 'Replaced by the new CRM' } }, users.opsManager);
    expect(retired).toMatchObject({ status: 'RETIRED', retirementReason: 'Replaced by the new CRM', version: 4 });
    // A retired asset accepts nothing more.
    const refused = errorOf(await t.gql(IDENTIFY_THREAT, { input: { assetId: a.id, name: 'Fire', affects: ['AVAILABILITY'] } }, users.opsManager));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_RETIRED', article: 'Art.14(2)' });
    // Retiring again for the same reason is already satisfied: no new event; for another, refused (it was recorded nowhere).
    const again = await t.ok(RETIRE, { input: { assetId: a.id, reason: 'Replaced by the new CRM' } }, users.opsManager);
    expect(again.retireAsset.version).toBe(4);
    const otherReason = errorOf(await t.gql(RETIRE, { input: { assetId: a.id, reason: 'again' } }, users.opsManager));
    expect(otherReason.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_RETIRED' });
    expect(otherReason.message).toMatch(/for another reason: that retirement stands/);
  });

  it('answers a retry with the same commandId with the first result and appends nothing', async () => {
    const input = { ...hotWallet, name: 'Cold wallet vault', commandId: 'cmd-cold-1' };
    const first = (await t.ok(REGISTER, { input }, users.opsManager)).registerAsset;
    const second = (await t.ok(REGISTER, { input }, users.opsManager)).registerAsset;
    expect(second).toEqual(first);
    const { events } = await t.ok(`{ events(first: 500, types: ["AssetRegistered"]) { edges { node { data } } } }`, {}, users.auditor);
    expect(events.edges.filter((e: any) => e.node.data.name === 'Cold wallet vault')).toHaveLength(1);
    // The same commandId from another user is that user's own command.
    const other = errorOf(await t.gql(REGISTER, { input }, users.ciso));
    expect(other.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_NAME_TAKEN' });
  });

  it('refuses a commandId used again for the same command with another input (BAD_USER_INPUT), rather than answering the first and doing nothing (README probe M3)', async () => {
    const input = { ...hotWallet, name: 'Backup HSM', commandId: 'cmd-one-input' };
    const first = (await t.ok(REGISTER, { input }, users.opsManager)).registerAsset;
    for (const other of [{ ...input, name: 'Backup HSM 2' }, { ...input, confidentiality: 1 }]) {
      const reused = errorOf(await t.gql(REGISTER, { input: other }, users.opsManager));
      expect(reused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/already used for this command with another input/) } });
    }
    const { assets } = await t.ok(`{ assets(first: 500) { edges { node { name } } } }`, {}, users.auditor);
    expect(assets.edges.map((e: any) => e.node.name).filter((n: string) => n.startsWith('Backup HSM'))).toEqual(['Backup HSM']);
    // The same input again, its members in another order, is the retry it always was.
    const reordered = Object.fromEntries(Object.entries(input).reverse());
    expect((await t.ok(REGISTER, { input: reordered }, users.opsManager)).registerAsset).toEqual(first);
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type metadata { commandId commandInput } } }`, { id: first.id }, users.auditor);
    expect(history).toEqual([{ type: 'AssetRegistered', metadata: { commandId: 'cmd-one-input', commandInput: expect.stringMatching(/^[0-9a-f]{32}$/) } }]);
  });

  it('16 requests in flight under one commandId with two inputs: one asset, its input answered with it, the other refused (README probe M3)', async () => {
    const input = (name: string) => ({ ...hotWallet, name, commandId: 'cmd-raced-inputs' });
    const answers = await Promise.all(Array.from({ length: 16 }, (_, n) => t.gql(REGISTER, { input: input(n % 2 ? 'Raced vault B' : 'Raced vault A') }, users.opsManager)));
    const registered = answers.filter((a) => !a.errors).map((a) => a.data.registerAsset);
    const refused = answers.filter((a) => a.errors).map((a) => a.errors![0]!.extensions);
    // Whichever input won, the 8 requests that sent it are answered with one asset and the other 8 are refused.
    expect(registered).toHaveLength(8);
    expect(new Set(registered.map((a: any) => a.id)).size).toBe(1);
    expect(refused).toHaveLength(8);
    for (const e of refused) expect(e).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/another input/) } });
    const { assets } = await t.ok(`{ assets(first: 500) { edges { node { name } } } }`, {}, users.auditor);
    expect(assets.edges.map((e: any) => e.node.name).filter((n: string) => n.startsWith('Raced vault'))).toEqual([registered[0].name]);
  });

  it('refuses a commandId used again for another command on the same entity (BAD_USER_INPUT), rather than answering the first and doing nothing', async () => {
    const registered = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Signing server', commandId: 'cmd-one-key' } }, users.opsManager)).registerAsset;
    const reused = errorOf(await t.gql(IDENTIFY_THREAT, { input: { assetId: registered.id, name: 'Key theft', affects: ['CONFIDENTIALITY'], commandId: 'cmd-one-key' } }, users.opsManager));
    expect(reused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/different kind of command/) } });
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type metadata { commandId commandType } } }`, { id: registered.id }, users.auditor);
    expect(history).toEqual([{ type: 'AssetRegistered', metadata: { commandId: 'cmd-one-key', commandType: 'RegisterAsset' } }]);
    // The same command again is still a retry: its first answer.
    expect((await t.ok(REGISTER, { input: { ...hotWallet, name: 'Signing server', commandId: 'cmd-one-key' } }, users.opsManager)).registerAsset).toEqual(registered);
  });

  it('refuses a commandId used again for the same command on another entity (BAD_USER_INPUT), rather than answering the first entity and doing nothing (race probe F2)', async () => {
    const x = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Ledger database' } }, users.opsManager)).registerAsset;
    const y = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Ledger replica' } }, users.opsManager)).registerAsset;
    const first = (await t.ok(IDENTIFY_THREAT, { input: { assetId: x.id, name: 'Ransomware', affects: ['AVAILABILITY'], commandId: 'cmd-two-assets' } }, users.opsManager)).identifyThreat;
    const reused = errorOf(await t.gql(IDENTIFY_THREAT, { input: { assetId: y.id, name: 'Ransomware', affects: ['AVAILABILITY'], commandId: 'cmd-two-assets' } }, users.opsManager));
    expect(reused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/same command on another entity/) } });
    expect((await t.ok(ASSET, { id: y.id }, users.auditor)).asset).toMatchObject({ version: 0 });
    // On the first entity it is still a retry.
    expect((await t.ok(IDENTIFY_THREAT, { input: { assetId: x.id, name: 'Ransomware', affects: ['AVAILABILITY'], commandId: 'cmd-two-assets' } }, users.opsManager)).identifyThreat).toEqual(first);
  });

  it('refuses a commandId used again for a vulnerability under another threat of the same asset (the command names its threat: metadata.commandSubject)', async () => {
    let asset = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Withdrawal gateway' } }, users.opsManager)).registerAsset;
    asset = (await t.ok(IDENTIFY_THREAT, { input: { assetId: asset.id, name: 'Credential stuffing', affects: ['CONFIDENTIALITY'] } }, users.opsManager)).identifyThreat;
    asset = (await t.ok(IDENTIFY_THREAT, { input: { assetId: asset.id, name: 'Replay', affects: ['INTEGRITY'] } }, users.opsManager)).identifyThreat;
    const [a, b] = asset.threats.map((th: { id: string }) => th.id);
    const input = (threatId: string) => ({ assetId: asset.id, threatId, name: 'No rate limit', commandId: 'cmd-two-threats' });
    const first = (await t.ok(IDENTIFY_VULN, { input: input(a) }, users.opsManager)).identifyVulnerability;
    const reused = errorOf(await t.gql(IDENTIFY_VULN, { input: input(b) }, users.opsManager));
    expect(reused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/same command on another entity/) } });
    expect((await t.ok(IDENTIFY_VULN, { input: input(a) }, users.opsManager)).identifyVulnerability).toEqual(first);
    expect(first.threats.map((th: { vulnerabilities: unknown[] }) => th.vulnerabilities.length)).toEqual([1, 0]);
  });

  it('refuses a stale expectedVersion with CONCURRENCY_CONFLICT naming both versions, and appends nothing', async () => {
    const a = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Matching engine' } }, users.opsManager)).registerAsset;
    await t.ok(REASSIGN, { input: { assetId: a.id, managerId: 'someone', expectedVersion: 0 } }, users.opsManager);
    const conflict = errorOf(await t.gql(REASSIGN, { input: { assetId: a.id, managerId: 'someone-else', expectedVersion: 0 } }, users.opsManager));
    expect(conflict.extensions).toEqual({ code: 'CONCURRENCY_CONFLICT', expectedVersion: 0, actualVersion: 1 });
    expect((await t.ok(ASSET, { id: a.id }, users.auditor)).asset).toMatchObject({ managerId: 'someone', version: 1 });
  });

  it('gives every error code of this slice in the contract shape, with no stack trace', async () => {
    const collected: unknown[] = [];
    const check = async (result: Promise<any>) => {
      const r = await result;
      collected.push(r);
      return errorOf(r);
    };
    // UNAUTHENTICATED: no token, a malformed one, one signed with another key, an expired one.
    expect((await check(t.gql(ASSETS, {}))).extensions.code).toBe('UNAUTHENTICATED');
    expect((await check(t.gql(ASSETS, {}, 'not-a-jwt'))).extensions.code).toBe('UNAUTHENTICATED');
    const { signToken } = await import('../../src/identity/cli/issue-token.js');
    const forged = await signToken('another-secret', users.ciso);
    expect((await check(t.gql(ASSETS, {}, forged))).extensions.code).toBe('UNAUTHENTICATED');
    const expired = await signToken('test-secret-for-e2e-only-0123456789abcdef', users.ciso, { expiresIn: '-1m' });
    expect((await check(t.gql(ASSETS, {}, expired))).extensions.code).toBe('UNAUTHENTICATED');
    // FORBIDDEN: wrong role, other department, auditor writing.
    expect((await check(t.gql(REGISTER, { input: hotWallet }, users.riskOwner))).extensions.code).toBe('FORBIDDEN');
    expect((await check(t.gql(REGISTER, { input: hotWallet }, users.financeManager))).extensions.code).toBe('FORBIDDEN');
    expect((await check(t.gql(REGISTER, { input: hotWallet }, users.auditor))).extensions.code).toBe('FORBIDDEN');
    const a = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'KYC archive' } }, users.opsManager)).registerAsset;
    expect((await check(t.gql(RETIRE, { input: { assetId: a.id, reason: 'x' } }, users.financeManager))).extensions.code).toBe('FORBIDDEN');
    // BAD_USER_INPUT with the fields named: ratings out of range, empty name, a wrong type, bad paging.
    const bad = await check(t.gql(REGISTER, { input: { ...hotWallet, name: ' ', confidentiality: 4, integrity: 0 } }, users.opsManager));
    expect(bad.extensions.code).toBe('BAD_USER_INPUT');
    expect(Object.keys(bad.extensions.fields).sort()).toEqual(['confidentiality', 'integrity', 'name']);
    const wrongType = await check(t.gql(REGISTER, { input: { ...hotWallet, confidentiality: 'high' } }, users.opsManager));
    expect(wrongType.extensions.code).toBe('BAD_USER_INPUT');
    expect((await check(t.gql(`{ assets(first: 501) { totalCount } }`, {}, users.auditor))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { first: expect.any(String) } });
    expect((await check(t.gql(`{ assets(after: "bm9wZTox") { totalCount } }`, {}, users.auditor))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.any(String) } });
    expect((await check(t.gql(`{ events(after: "zzz") { totalCount } }`, {}, users.auditor))).extensions.code).toBe('BAD_USER_INPUT');
    // A cursor past the head (a log restored from an older copy): refused, not an empty page to wait on.
    const { events: all } = await t.ok(`{ events(first: 500) { pageInfo { endCursor } } }`, {}, users.auditor);
    const past = (BigInt(all.pageInfo.endCursor) + 1_000n).toString().padStart(19, '0');
    expect((await check(t.gql(`query($a: String) { events(after: $a) { totalCount } }`, { a: past }, users.auditor))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.stringContaining("past the log's head") } });
    expect((await t.ok(`query($a: String) { events(after: $a) { edges { cursor } pageInfo { hasNextPage } } }`, { a: all.pageInfo.endCursor }, users.auditor)).events).toEqual({ edges: [], pageInfo: { hasNextPage: false } });
    expect((await check(t.gql(`{ nonsense }`, {}, users.auditor))).extensions.code).toBe('BAD_USER_INPUT');
    expect((await check(t.gql(`mutation { registerAsset(input: {}) { id } `, {}, users.auditor))).extensions.code).toBe('BAD_USER_INPUT');
    // NOT_FOUND: an unknown asset, an unknown threat of a known asset, history of nothing.
    expect((await check(t.gql(RETIRE, { input: { assetId: '00000000-0000-4000-8000-000000000000', reason: 'x' } }, users.ciso))).extensions.code).toBe('NOT_FOUND');
    expect((await check(t.gql(IDENTIFY_VULN, { input: { assetId: a.id, threatId: 'nope', name: 'v' } }, users.ciso))).extensions.code).toBe('NOT_FOUND');
    expect((await check(t.gql(`{ history(id: "nope") { type } }`, {}, users.auditor))).extensions.code).toBe('NOT_FOUND');
    // RULE_VIOLATION: a duplicate name in the department.
    const dup = await check(t.gql(REGISTER, { input: { ...hotWallet, name: ' kyc ARCHIVE ' } }, users.opsManager));
    expect(dup.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_NAME_TAKEN', article: 'Art.14(2)' });
    const text = JSON.stringify(collected);
    expect(text).not.toMatch(/stacktrace|\n\s+at |INTERNAL_SERVER_ERROR/);
  });

  it('lists the inventory as a Relay connection, filtered by department, page by page', async () => {
    for (const name of ['Ledger DB', 'Treasury sheet']) {
      await t.ok(REGISTER, { input: { ...hotWallet, department: 'finance', name } }, users.financeManager);
    }
    const page1 = (await t.ok(ASSETS, { first: 1, department: 'finance' }, users.riskOwner)).assets;
    expect(page1.totalCount).toBe(2);
    expect(page1.edges.map((e: any) => e.node.name)).toEqual(['Ledger DB']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await t.ok(ASSETS, { first: 1, after: page1.pageInfo.endCursor, department: 'finance' }, users.riskOwner)).assets;
    expect(page2.edges.map((e: any) => e.node.name)).toEqual(['Treasury sheet']);
    expect(page2.pageInfo.hasNextPage).toBe(false);

    // A page with no edge ends where it was asked from: "ask again with after = endCursor" goes on
    // from there, not from the start of the list (re-probe: first: 0 answered a null endCursor).
    const none = (await t.ok(ASSETS, { first: 0, after: page1.pageInfo.endCursor, department: 'finance' }, users.riskOwner)).assets;
    expect(none).toMatchObject({ edges: [], pageInfo: { hasNextPage: true, endCursor: page1.pageInfo.endCursor } });
    const next = (await t.ok(ASSETS, { first: 1, after: none.pageInfo.endCursor, department: 'finance' }, users.riskOwner)).assets;
    expect(next.edges.map((e: any) => e.node.name)).toEqual(['Treasury sheet']);
    expect((await t.ok(ASSETS, { first: 0, department: 'finance' }, users.riskOwner)).assets.pageInfo).toEqual({ hasNextPage: true, endCursor: null });
    const end = (await t.ok(ASSETS, { first: 1, after: page2.pageInfo.endCursor, department: 'finance' }, users.riskOwner)).assets;
    expect(end).toMatchObject({ edges: [], pageInfo: { hasNextPage: false, endCursor: page2.pageInfo.endCursor } });
    // A hand-made cursor in the list's own format but not one it wrote is refused, not read as the end (re-probe F3).
    for (const key of ['01', '1e3', '-1', ' 1', '1.0', '99999999999999999999']) {
      const forged = Buffer.from(`asset:${key}`, 'utf8').toString('base64url');
      expect(errorOf(await t.gql(ASSETS, { first: 1, after: forged }, users.riskOwner)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: 'is not a cursor of this list' } });
    }
    // An empty one is not "the first page" (scale probe of 2026-12-06, L2), on every list.
    for (const list of ['assets', 'risks', 'plans', 'incidents', 'accessLog', 'events']) {
      const answer = await t.gql(`query { ${list}(first: 1, after: "") { edges { cursor } } }`, {}, users.auditor);
      expect({ list, error: errorOf(answer).extensions }).toMatchObject({ list, error: { code: 'BAD_USER_INPUT', fields: { after: expect.stringMatching(/^is not (a cursor of this list|a valid cursor)/) } } });
    }
  });

  it('one department however it is spelt (case, width): for the name rule, for access and for the list (probe p14 F3)', async () => {
    const otto = { sub: 'mgr-ops-otto', name: 'Otto', roles: ['ASSET_MANAGER'], department: 'OPS' };
    const wide = { sub: 'mgr-ops-wide', name: 'Wide', roles: ['ASSET_MANAGER'], department: 'ｏｐｓ' };
    const before = (await t.ok(ASSETS, { first: 1, department: 'ops' }, users.riskOwner)).assets.totalCount;
    const lower = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Payment gateway' } }, users.ciso)).registerAsset;
    const taken = errorOf(await t.gql(REGISTER, { input: { ...hotWallet, name: 'Payment gateway', department: 'OPS' } }, users.ciso));
    expect(taken.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_NAME_TAKEN' });
    // The stored department keeps the spelling it was given (events are never edited).
    const upper = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Settlement batch', department: 'OPS' } }, users.ciso)).registerAsset;
    expect(upper.department).toBe('OPS');
    await t.ok(IDENTIFY_THREAT, { input: { assetId: upper.id, name: 'Tampering', affects: ['INTEGRITY'] } }, users.opsManager);
    await t.ok(IDENTIFY_THREAT, { input: { assetId: lower.id, name: 'Outage', affects: ['AVAILABILITY'] } }, otto);
    const threatened = (await t.ok(IDENTIFY_THREAT, { input: { assetId: lower.id, name: 'Fraud', affects: ['INTEGRITY'] } }, wide)).identifyThreat;
    const threat = threatened.threats.find((x: any) => x.name === 'Fraud');
    const withVuln = (await t.ok(IDENTIFY_VULN, { input: { assetId: lower.id, threatId: threat.id, name: 'No second approval' } }, otto)).identifyVulnerability;
    const vulnerability = withVuln.threats.find((x: any) => x.id === threat.id).vulnerabilities[0];
    const risk = await t.ok(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`,
      { input: { title: 'Fraudulent payouts', assetIds: [lower.id, upper.id], threatId: threat.id, vulnerabilityId: vulnerability.id, ownerId: 'owner-1' } }, otto);
    expect(risk.identifyRisk.id).toEqual(expect.any(String));
    const foreign = errorOf(await t.gql(IDENTIFY_THREAT, { input: { assetId: upper.id, name: 'Fire', affects: ['AVAILABILITY'] } }, users.financeManager));
    expect(foreign.extensions).toMatchObject({ code: 'FORBIDDEN' });
    // The list answers the same for every spelling, and lists both spellings.
    for (const department of ['ops', 'OPS', 'Ops', 'ｏｐｓ']) {
      const list = (await t.ok(ASSETS, { first: 500, department }, users.riskOwner)).assets;
      expect(list.totalCount).toBe(before + 2);
      expect(list.edges.map((e: any) => e.node.id)).toEqual(expect.arrayContaining([lower.id, upper.id]));
    }
  });

  it('shows an asset as it stood at a past instant, folded from the log', async () => {
    const a = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Website' } }, users.opsManager)).registerAsset;
    await new Promise((r) => setTimeout(r, 15));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 15));
    await t.ok(REASSIGN, { input: { assetId: a.id, managerId: 'new-manager' } }, users.opsManager);
    expect((await t.ok(ASSET, { id: a.id, asOf: between }, users.auditor)).asset).toMatchObject({ managerId: 'mgr-ops', version: 0 });
    expect((await t.ok(ASSET, { id: a.id }, users.auditor)).asset).toMatchObject({ managerId: 'new-manager', version: 1 });
    expect((await t.ok(ASSET, { id: a.id, asOf: '2000-01-01T00:00:00Z' }, users.auditor)).asset).toBeNull();
  });

  it('answers GET /health with the event store state', async () => {
    const response = await fetch(`${t.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', eventStore: { ok: true, adapter: 'sqlite' } });
  });

  it('tells who is calling', async () => {
    expect((await t.ok(`{ me { id name roles department } }`, {}, users.opsManager)).me).toEqual({ id: 'mgr-ops', name: 'Ops Manager', roles: ['ASSET_MANAGER'], department: 'ops' });
  });

  it('pushes committed events to a graphql-ws subscriber, filtered by type', async () => {
    const client = await t.wsClient(users.auditor);
    const subscriptionsBefore = t.liveSubscriptions();
    const received: any[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: `subscription { eventAppended(types: ["ThreatIdentified"]) { type streamId revision hash data } }` },
        {
          next: (msg) => {
            received.push(msg.data?.eventAppended);
            resolve();
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    // Only what is committed once the subscription is registered reaches it.
    await eventually('the subscription to be registered', () => t.liveSubscriptions() > subscriptionsBefore);
    const a = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Withdrawal API' } }, users.opsManager)).registerAsset;
    await t.ok(IDENTIFY_THREAT, { input: { assetId: a.id, name: 'Credential stuffing', affects: ['INTEGRITY'] } }, users.opsManager);
    await done;
    await client.dispose();
    expect(received[0]).toMatchObject({ type: 'ThreatIdentified', streamId: `asset-${a.id}`, revision: 1, data: { name: 'Credential stuffing' } });
  });

  it('resumes a subscription from a position: the events committed after it, then live ones; a bad position is BAD_USER_INPUT', async () => {
    const { events } = await t.ok(`{ events(first: 500, types: ["ThreatIdentified"]) { edges { node { position } } } }`, {}, users.auditor);
    const from = events.edges.at(-1)?.node.position ?? null;
    const a = (await t.ok(REGISTER, { input: { ...hotWallet, name: 'Resume API' } }, users.opsManager)).registerAsset;
    for (const name of ['Replay 1', 'Replay 2']) await t.ok(IDENTIFY_THREAT, { input: { assetId: a.id, name, affects: ['INTEGRITY'] } }, users.opsManager);
    const after = from ?? (await t.ok(`{ events(first: 1) { edges { node { position } } } }`, {}, users.auditor)).events.edges[0].node.position;
    const client = await t.wsClient(users.auditor);
    const names: string[] = [];
    const three = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: `subscription($after: String) { eventAppended(types: ["ThreatIdentified"], after: $after) { data } }`, variables: { after } },
        {
          next: (msg) => {
            names.push((msg.data as any).eventAppended.data.name);
            if (names.length === 3) resolve();
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    await new Promise((r) => setTimeout(r, 200));
    await t.ok(IDENTIFY_THREAT, { input: { assetId: a.id, name: 'Live 3', affects: ['INTEGRITY'] } }, users.opsManager);
    await three;
    expect(names).toEqual(['Replay 1', 'Replay 2', 'Live 3']);
    const refused = async (position: string) =>
      new Promise<any>((resolve) => client.subscribe({ query: `subscription($after: String) { eventAppended(after: $after) { type } }`, variables: { after: position } }, { next: (m: any) => resolve(m.errors), error: resolve, complete: () => undefined }));
    const past = await refused("0000000000000999999");
    expect(past[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.stringMatching(/past the log's head/) } });
    expect((await refused('not-a-position'))[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.any(String) } });
    // A position of another adapter (PostgreSQL's, on SQLite) is refused at once, not when first read (re-probe p15).
    expect((await refused('00000000000000000000-00000000000000000001'))[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.any(String) } });
    // A short decimal is the padded position, as for events(after).
    const short = String(Number(after));
    const first = await new Promise<any>((resolve, reject) =>
      client.subscribe({ query: `subscription($after: String) { eventAppended(types: ["ThreatIdentified"], after: $after) { data } }`, variables: { after: short } }, { next: resolve, error: reject, complete: () => undefined }),
    );
    expect(first.data.eventAppended.data.name).toBe('Replay 1');
    await client.dispose();
  });

  it('refuses a subscription without a valid token', async () => {
    const client = await t.wsClient(null);
    const outcome = await new Promise<string>((resolve) => {
      client.subscribe({ query: `subscription { eventAppended { type } }` }, { next: () => resolve('next'), error: () => resolve('error'), complete: () => resolve('complete') });
    });
    await client.dispose();
    expect(outcome).toBe('error');
  });
});

describe('the embedded store keeps what it acknowledged', () => {
  it('still has the asset after a restart on the same SQLite file', async () => {
    const first = await TestApp.start();
    const a = (await first.ok(REGISTER, { input: hotWallet }, users.opsManager)).registerAsset;
    await first.close({ keepData: true });
    const second = await TestApp.start({ dataDir: first.dataDir });
    try {
      expect((await second.ok(ASSET, { id: a.id }, users.auditor)).asset).toMatchObject({ id: a.id, name: hotWallet.name, version: 0 });
    } finally {
      await second.close();
    }
  });
});
