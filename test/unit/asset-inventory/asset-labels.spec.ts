import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { AssetRegisterQueries } from '../../../src/asset-inventory/projections/asset-register.projection.js';

/**
 * What documents name an asset by, and a risk's threat and vulnerability, read by SQLite from the
 * stored asset without parsing it in JavaScript (review of 2026-12-07, M2: a register row naming
 * assets of 1,000,000 characters of threats each parsed every one whole for its name). The same
 * answers as the parsed document gives.
 */
describe('asset labels and threat names for documents', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE assets (id TEXT PRIMARY KEY, doc TEXT NOT NULL)');
  const active = { id: 'a1', name: 'Hot wallet "signer" 署名', status: 'ACTIVE', threats: [{ id: 't1', name: 'Key theft', vulnerabilities: [{ id: 'v1', name: 'Keys online' }, { id: 'v2', name: 'One approver' }] }, { id: 't2', name: 'Outage', vulnerabilities: [] }] };
  const retired = { id: 'a2', name: 'Old HSM', status: 'RETIRED', retiredAt: '2027-02-01T03:00:00.000Z', threats: [] };
  for (const a of [active, retired]) db.prepare('INSERT INTO assets (id, doc) VALUES (?, ?)').run(a.id, JSON.stringify(a));
  const assets = new AssetRegisterQueries(db);

  it('labels an asset by its name, status and retirement, and none that is not there', () => {
    expect(assets.label('a1')).toEqual({ id: 'a1', name: active.name, status: 'ACTIVE' });
    expect(assets.label('a2')).toEqual({ id: 'a2', name: 'Old HSM', status: 'RETIRED', retiredAt: '2027-02-01T03:00:00.000Z' });
    expect(assets.label('a3')).toBeNull();
  });

  it("names a threat and one of its vulnerabilities, and leaves out what the asset does not hold", () => {
    expect(assets.threatNames('a1', 't1', 'v2')).toEqual({ threat: 'Key theft', vulnerability: 'One approver' });
    expect(assets.threatNames('a1', 't2', 'v1')).toEqual({ threat: 'Outage' });
    expect(assets.threatNames('a1', 't1', undefined)).toEqual({ threat: 'Key theft' });
    expect(assets.threatNames('a1', 'tx', 'v1')).toEqual({});
    expect(assets.threatNames('a3', 't1', 'v1')).toEqual({});
  });
});
