/**
 * One suite, every evidence blob store: the folder (DATA_DIR/evidence or EVIDENCE_DIR), memory,
 * and the PostgreSQL table (a throwaway cluster, or TEST_DATABASE_URL; skipped without either).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EvidenceBlobStore } from '../../src/evidence/application/evidence-blobs.js';
import { FolderBlobStore } from '../../src/evidence/infrastructure/folder-blob-store.js';
import { MemoryBlobStore } from '../../src/evidence/infrastructure/memory-blob-store.js';
import { PostgresBlobStore } from '../../src/evidence/infrastructure/postgres-blob-store.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An upload as the upload service leaves it: a complete temp file in the store's upload folder. */
function temp(store: EvidenceBlobStore, bytes: Buffer): string {
  const path = join(store.uploadDir, `${randomUUID()}.part`);
  writeFileSync(path, bytes);
  return path;
}

function contract(name: string, open: () => Promise<{ store: EvidenceBlobStore; damage: (hash: string) => Promise<void> }>) {
  describe(`evidence blob store: ${name}`, () => {
    let store: EvidenceBlobStore;
    let damage: (hash: string) => Promise<void>;
    beforeAll(async () => ({ store, damage } = await open()));
    afterAll(async () => store?.close());

    it('stores by hash, reads the same bytes, consumes the temp file', async () => {
      const bytes = Buffer.from(`minutes ${randomUUID()}`);
      const path = temp(store, bytes);
      expect(await store.has(sha(bytes))).toBe(false);
      await store.put(sha(bytes), path, bytes.length);
      expect(existsSync(path)).toBe(false);
      expect(await store.has(sha(bytes))).toBe(true);
      expect((await store.read(sha(bytes)))!.equals(bytes)).toBe(true);
      expect(await store.read(sha(Buffer.from('never stored')))).toBeNull();
    });

    it('takes 16 concurrent puts of the same file as one intact blob', async () => {
      const bytes = Buffer.from(`contract ${randomUUID()}`.repeat(1000));
      await Promise.all(Array.from({ length: 16 }, () => store.put(sha(bytes), temp(store, bytes), bytes.length)));
      expect((await store.read(sha(bytes)))!.equals(bytes)).toBe(true);
    });

    it('replaces a damaged blob with a new upload of the same bytes', async () => {
      const bytes = Buffer.from(`policy ${randomUUID()}`);
      await store.put(sha(bytes), temp(store, bytes), bytes.length);
      await damage(sha(bytes));
      expect((await store.read(sha(bytes)))!.equals(bytes)).toBe(false);
      await store.put(sha(bytes), temp(store, bytes), bytes.length);
      expect((await store.read(sha(bytes)))!.equals(bytes)).toBe(true);
    });

    it('refuses anything but a SHA-256 as a name', async () => {
      await expect(store.read('../../etc/passwd')).rejects.toThrow(/not a SHA-256/);
    });

    it('tells which of many hashes have no blob, in the order given', async () => {
      const stored = [Buffer.from(`a ${randomUUID()}`), Buffer.from(`b ${randomUUID()}`)];
      for (const bytes of stored) await store.put(sha(bytes), temp(store, bytes), bytes.length);
      const absent = [sha(Buffer.from(`never ${randomUUID()}`)), sha(Buffer.from(`nor ${randomUUID()}`))];
      expect(await store.missingOf([absent[0]!, sha(stored[0]!), absent[1]!, sha(stored[1]!)])).toEqual(absent);
      expect(await store.missingOf([])).toEqual([]);
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'risk-ledger-blobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

contract('folder', async () => {
  const store = await new FolderBlobStore(join(root, 'evidence')).init();
  return { store, damage: async (hash) => writeFileSync(store.pathOf(hash), 'damaged') };
});

describe('evidence blob store: folder, on opening', () => {
  it('deletes the .part files an interrupted upload left in its upload folder (and keeps the blobs)', async () => {
    const first = await new FolderBlobStore(join(root, 'reopened')).init();
    const bytes = Buffer.from(`kept ${randomUUID()}`);
    await first.put(sha(bytes), temp(first, bytes));
    const leftover = temp(first, Buffer.from('half an upload'));
    const reopened = await new FolderBlobStore(join(root, 'reopened')).init();
    expect(existsSync(leftover)).toBe(false);
    expect((await reopened.read(sha(bytes)))!.equals(bytes)).toBe(true);
  });

  it('streams a stored blob through openBlob; null when none', async () => {
    const store = await new FolderBlobStore(join(root, 'streamed')).init();
    const bytes = Buffer.from(`streamed ${randomUUID()}`);
    await store.put(sha(bytes), temp(store, bytes));
    const handle = await store.openBlob(sha(bytes));
    try {
      expect((await handle!.readFile()).equals(bytes)).toBe(true);
    } finally {
      await handle?.close();
    }
    expect(await store.openBlob(sha(Buffer.from('never stored')))).toBeNull();
  });
});

const memory = new MemoryBlobStore();
contract('memory', async () => ({
  store: memory,
  damage: async (hash) => {
    (memory as unknown as { blobs: Map<string, Buffer> }).blobs.set(hash, Buffer.from('damaged'));
  },
}));

// A real cluster the test starts itself (test/support/postgres-cluster.ts); without PostgreSQL
// this suite fails, as the event store's does: it is never skipped.
let server: PostgresServer | null = null;
afterAll(async () => server?.stop());
contract('postgres', async () => {
  server = await startPostgres();
  const url = await server.createDatabase('blobs');
  const store = await new PostgresBlobStore(url).init();
  return {
    store,
    damage: async (hash) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`UPDATE risk_ledger.evidence_blobs SET content = 'damaged'::bytea WHERE sha256 = $1`, [hash]);
      await client.end();
    },
  };
});
