import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { READ_DB, type ReadDb } from '../projections/read-model-database.js';
import { AggregateReader } from '../shared/application/aggregate-reader.js';
import { EvidenceFiles } from '../shared/application/evidence-files.js';
import { BUILTIN_CATALOGUE_ID } from '../baseline-catalogues/domain/builtin-catalogue.js';
import { HealthModule } from '../health/health.module.js';
import { AddCommentHandler, AttachEvidenceHandler, StoreEvidenceFileHandler } from './application/evidence-commands.js';
import { EVIDENCE_BLOBS, type EvidenceBlobStore } from './application/evidence-blobs.js';
import { LogEvidenceFiles } from './application/evidence-file-lookup.js';
import { EntityCommentsHandler, EntityEvidenceHandler } from './application/evidence-queries.js';
import { EntityDirectory } from './application/entity-directory.js';
import { EvidencePresenceCheck } from './application/evidence-presence-check.js';
import { ControlEvidenceResolver, EvidenceResolver, ResolutionEvidenceResolver } from './graphql/evidence.resolver.js';
import { EvidenceController } from './http/evidence.controller.js';
import { openConfiguredBlobStore } from './infrastructure/configured-blob-store.js';
import { FolderBlobStore } from './infrastructure/folder-blob-store.js';

/**
 * Evidence files (POST/GET /evidence, attachEvidence, evidence, Control.evidence) and comments.
 * Global, so that any feature can inject the EvidenceFiles port to cite a file in its own events.
 */
@Global()
@Module({
  // ShutdownState: an upload completed after the server closed to requests is refused.
  imports: [HealthModule],
  controllers: [EvidenceController],
  providers: [
    {
      provide: EVIDENCE_BLOBS,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const blobs = await openConfiguredBlobStore(config);
        if (blobs instanceof FolderBlobStore) blobs.assertFoldersWritable();
        return blobs;
      },
    },
    { provide: EvidenceFiles, inject: [AggregateReader], useFactory: (aggregates: AggregateReader) => new LogEvidenceFiles(aggregates) },
    {
      provide: EntityDirectory,
      inject: [EVENT_STORE, READ_DB],
      useFactory: (store: EventStore, db: ReadDb) => new EntityDirectory(store, db, { builtInIds: { [BUILTIN_CATALOGUE_ID]: 'BASELINE_CATALOGUE' } }),
    },
    // Evidence files restored or not: said at start (backup probe F3).
    EvidencePresenceCheck,
    StoreEvidenceFileHandler,
    AttachEvidenceHandler,
    AddCommentHandler,
    EntityEvidenceHandler,
    EntityCommentsHandler,
    EvidenceResolver,
    ControlEvidenceResolver,
    ResolutionEvidenceResolver,
  ],
  // EntityDirectory: the history of a control or board resolution that has no annotations yet is [], not NOT_FOUND.
  exports: [EvidenceFiles, EVIDENCE_BLOBS, EntityDirectory],
})
export class EvidenceModule implements OnApplicationShutdown {
  constructor(@Inject(EVIDENCE_BLOBS) private readonly blobs: EvidenceBlobStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.blobs.close();
  }
}
