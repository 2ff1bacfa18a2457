/**
 * One suite, every evidence blob store: the folder (DATA_DIR/evidence or EVIDENCE_DIR), memory,
 * and the PostgreSQL table (a throwaway cluster, or TEST_DATABASE_URL; skipped without either).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EvidenceBlobStore } from '../../src/evidence/application/evidence-blobs.js';
import { FolderBlobStore } from '../../src/evidence/infrastructure/folder-blob-store.js';
import { MemoryBlobStore } from '../../src/evidence/infrastructure/memory-blob-store.js';
import { PostgresBlobStore } from '../../src/evidence/infrastructure/postgres-blob-store.js';
import { ABANDONED_UPLOAD_MS } from '../../src/evidence/infrastructure/upload-folder.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An upload as the upload service leaves it: a complete temp file in the store's upload folder. */
function temp(store: EvidenceBlobStore, bytes: Buffer): string {
  const path = join(store.uploadDir, `${randomUUID()}.part`);
  writeFileSync(path, bytes);
  return path;
}

/** An upload a crash cut short: its .part untouched for longer than ABANDONED_UPLOAD_MS. */
function abandoned(store: EvidenceBlobStore): string {
  const path = temp(store, Buffer.from('half an upload'));
  const then = new Date(Date.now() - ABANDONED_UPLOAD_MS - 60_000);
  utimesSync(path, then, then);
  return path;
}

interface Opened {
  store: EvidenceBlobStore;
  damage: (hash: string) => Promise<void>;
  /** Another store on the same blobs and upload folder, as the CLI or another instance opens it; none for memory (a folder per process). */
  another?: () => Promise<EvidenceBlobStore>;
}

function contract(name: string, open: () => Promise<Opened>, { sharedUploadFolder = true } = {}) {
  describe(`evidence blob store: ${name}`, () => {
    let store: EvidenceBlobStore;
    let damage: (hash: string) => Promise<void>;
    let another: Opened['another'];
    beforeAll(async () => ({ store, damage, another } = await open()));
    afterAll(async () => store?.close());

    // Memory has none: its upload folder is its process's own.
    if (sharedUploadFolder) it('opened again (the CLI beside a server, another instance), removes the uploads a crash abandoned and keeps those in flight, and the blobs', async () => {
      const bytes = Buffer.from(`kept ${randomUUID()}`);
      await store.put(sha(bytes), temp(store, bytes), bytes.length);
      const leftover = abandoned(store);
      const inFlight = Buffer.from(`in flight ${randomUUID()}`);
      const receiving = temp(store, inFlight);
      const second = await another!();
      try {
        expect(second.uploadDir).toBe(store.uploadDir);
        expect(existsSync(leftover)).toBe(false);
        // Removed, it failed its upload with ENOENT, answered 500 (an upload during `risk-ledger export`, 2026-12-07).
        expect(existsSync(receiving)).toBe(true);
        await store.put(sha(inFlight), receiving, inFlight.length);
        expect((await second.read(sha(inFlight)))!.equals(inFlight)).toBe(true);
        expect((await second.read(sha(bytes)))!.equals(bytes)).toBe(true);
      } finally {
        await second.close();
      }
      // Closing one leaves the folder to the others.
      expect(existsSync(store.uploadDir)).toBe(true);
    });

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
  return { store, damage: async (hash) => writeFileSync(store.pathOf(hash), 'damaged'), another: () => new FolderBlobStore(join(root, 'evidence')).init() };
});

describe('evidence blob store: folder, on opening', () => {
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
}), { sharedUploadFolder: false });

// A real cluster the test starts itself (test/support/postgres-cluster.ts); without PostgreSQL
// this suite fails, as the event store's does: it is never skipped.
let server: PostgresServer | null = null;
afterAll(async () => server?.stop());
contract('postgres', async () => {
  server = await startPostgres();
  const url = await server.createDatabase('blobs');
  const uploads = join(root, 'postgres-uploads');
  const store = await new PostgresBlobStore(url, uploads).init();
  return {
    store,
    another: () => new PostgresBlobStore(url, uploads).init(),
    damage: async (hash) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`UPDATE risk_ledger.evidence_blobs SET content = 'damaged'::bytea WHERE sha256 = $1`, [hash]);
      await client.end();
    },
  };
});
