import { readFile, rm } from 'node:fs/promises';
import pg from 'pg';
import { assertSha256, type EvidenceBlobStore } from '../application/evidence-blobs.js';
import { ensureRelation, ensureSchema } from '../../event-store/postgres/ensure-schema.js';
import { BEGIN_WRITE, CONNECTION_LIMITS, withPooledClient } from '../../event-store/postgres/held-client.js';
import { prepareUploadFolder } from './upload-folder.js';

const TABLE = 'risk_ledger.evidence_blobs';
/** Serialises the creation of the table by instances starting together (any constant of our own). */
const SCHEMA_LOCK = 7_311_905_112;

/**
 * Blobs in the PostgreSQL database of the log (EVENT_STORE=postgres without EVIDENCE_DIR): every
 * instance reads and writes the same table, so a file uploaded to one is served by all. A row whose
 * bytes no longer hash to its key is replaced by a new upload of the file.
 */
export class PostgresBlobStore implements EvidenceBlobStore {
  readonly description = `PostgreSQL table ${TABLE}`;
  private readonly pool: pg.Pool;

  /**
   * `uploadDir`: uploads in progress, in the instance's DATA_DIR (a folder under the system's tmp,
   * made per process, was left there by every instance that did not stop cleanly).
   */
  constructor(
    connectionString: string,
    readonly uploadDir: string,
  ) {
    this.pool = new pg.Pool({ connectionString, max: 4, ...CONNECTION_LIMITS });
    // An idle connection the server ends (a restart) emits 'error' on the pool: unhandled, it would
    // end the process. The pool drops that connection; the next query opens another.
    this.pool.on('error', () => undefined);
  }

  async init(): Promise<this> {
    await prepareUploadFolder(this.uploadDir);
    await withPooledClient(this.pool, async (client) => {
      try {
        await client.query(BEGIN_WRITE);
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCHEMA_LOCK]);
        await ensureSchema(client, 'risk_ledger', 'risk_ledger');
        await ensureRelation(client, TABLE, `CREATE TABLE IF NOT EXISTS ${TABLE} (sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'), size bigint NOT NULL, content bytea NOT NULL, stored_at timestamptz NOT NULL DEFAULT now())`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    return this;
  }

  async put(sha256: string, tempPath: string, size: number): Promise<void> {
    assertSha256(sha256);
    try {
      const content = await readFile(tempPath);
      // Through withPooledClient: a session that cannot write again is discarded (held-client.ts).
      await withPooledClient(this.pool, (client) =>
        client.query(
          `INSERT INTO ${TABLE} (sha256, size, content) VALUES ($1, $2, $3)
           ON CONFLICT (sha256) DO UPDATE SET content = EXCLUDED.content, size = EXCLUDED.size
           WHERE encode(sha256(${TABLE}.content), 'hex') <> ${TABLE}.sha256`,
          [sha256, size, content],
        ),
      );
    } finally {
      await rm(tempPath, { force: true });
    }
  }

  async read(sha256: string): Promise<Buffer | null> {
    assertSha256(sha256);
    const { rows } = await this.pool.query<{ content: Buffer }>(`SELECT content FROM ${TABLE} WHERE sha256 = $1`, [sha256]);
    return rows[0]?.content ?? null;
  }

  async has(sha256: string): Promise<boolean> {
    assertSha256(sha256);
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${TABLE} WHERE sha256 = $1`, [sha256]);
    return (rowCount ?? 0) > 0;
  }

  async missingOf(sha256s: readonly string[]): Promise<string[]> {
    for (const sha256 of sha256s) assertSha256(sha256);
    const { rows } = await this.pool.query<{ sha256: string }>(`SELECT sha256 FROM ${TABLE} WHERE sha256 = ANY($1::text[])`, [sha256s]);
    const stored = new Set(rows.map((r) => r.sha256));
    return sha256s.filter((sha256) => !stored.has(sha256));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
