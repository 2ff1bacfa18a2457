import { join } from 'node:path';
import type { AppConfig } from '../../config/app-config.js';
import { EVIDENCE_UPLOADS_FOLDER } from '../../config/own-files.js';
import type { EvidenceBlobStore } from '../application/evidence-blobs.js';
import { FolderBlobStore } from './folder-blob-store.js';
import { MemoryBlobStore } from './memory-blob-store.js';
import { PostgresBlobStore } from './postgres-blob-store.js';

/**
 * The blob store the configuration names (the server and the CLI's export alike): EVIDENCE_DIR
 * when set; else a table of the PostgreSQL database, memory with the in-memory store, or
 * DATA_DIR/evidence/ beside the embedded store.
 */
export async function openConfiguredBlobStore(config: Pick<AppConfig, 'eventStore' | 'dataDir' | 'databaseUrl' | 'evidence'>): Promise<EvidenceBlobStore> {
  if (config.evidence.dir) return new FolderBlobStore(config.evidence.dir).init();
  if (config.eventStore === 'postgres' && config.databaseUrl) return new PostgresBlobStore(config.databaseUrl, join(config.dataDir, EVIDENCE_UPLOADS_FOLDER)).init();
  if (config.eventStore === 'memory') return new MemoryBlobStore();
  return new FolderBlobStore(join(config.dataDir, 'evidence')).init();
}
