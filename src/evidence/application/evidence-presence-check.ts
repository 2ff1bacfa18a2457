import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { JsonLogger } from '../../shared/logging/json-logger.js';
import { EVIDENCE_BLOBS, type EvidenceBlobStore } from './evidence-blobs.js';

/** Files looked at per turn of the event loop. */
const PER_TURN = 200;

/**
 * Once the read models have caught up after a start, every evidence file they know of is looked
 * for in the blob store (present, not hashed: `verify-store` reads and hashes them). A restore
 * without the evidence folder started with `/health` ok and no word, and each download then
 * answered 500 `EVIDENCE_FILE_MISSING` (backup probe of 2026-12-06, F3): now the start says so in
 * one warn line, with how many and the first few, naming the command that checks them all.
 */
@Injectable()
export class EvidencePresenceCheck implements OnApplicationBootstrap, OnModuleDestroy {
  private running?: Promise<unknown>;
  private stopped = false;
  /** Ends the wait for the read models at a stop that comes first. */
  private stop?: () => void;
  private readonly log: JsonLogger;

  constructor(
    @Inject(READ_DB) private readonly db: ReadDb,
    @Inject(EVIDENCE_BLOBS) private readonly blobs: EvidenceBlobStore,
    private readonly projections: ProjectionRunner,
    logger: JsonLogger,
  ) {
    this.log = logger.child('evidence');
  }

  onApplicationBootstrap(): void {
    const stopping = new Promise<void>((resolve) => (this.stop = resolve));
    this.running = Promise.race([this.projections.whenCaughtUp(), stopping])
      .then(() => (this.stopped ? 0 : this.check()))
      .catch((error: unknown) => this.log.warn('evidence files could not be looked for', { error: (error as Error).message }));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.stop?.();
    await this.running;
  }

  /** Looks for every known file's bytes; a warn line when some are missing. */
  async check(): Promise<number> {
    const known = this.db.prepare('SELECT sha256 FROM evidence_files UNION SELECT sha256 FROM evidence_links ORDER BY 1').pluck().all() as string[];
    const missing: string[] = [];
    for (let i = 0; i < known.length && !this.stopped; i += PER_TURN) {
      // One look per slice (on PostgreSQL one query, where it was one query per file).
      missing.push(...(await this.blobs.missingOf(known.slice(i, i + PER_TURN))));
      await nextTurn();
    }
    if (missing.length > 0) {
      this.log.warn(
        `${missing.length} of the ${known.length} evidence files the register knows of are missing from the evidence store (${this.blobs.description}): their downloads answer EVIDENCE_FILE_MISSING. Restore them (the evidence folder of the backup or export), then check with npm run cli -- verify-store`,
        { missing: missing.length, known: known.length, firstMissing: missing.slice(0, 5) },
      );
    }
    return missing.length;
  }
}
