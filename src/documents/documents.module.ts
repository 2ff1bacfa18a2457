import { Module } from '@nestjs/common';
import { DocumentSource } from './application/document-source.js';
import { DocumentsService } from './application/documents.service.js';
import { ControlsDocumentResolver } from './graphql/controls-document.resolver.js';
import { DocumentsController } from './http/documents.controller.js';

/**
 * The documents people read (Art.18(2), Art.19): the plan document (Markdown, printable HTML),
 * the register (CSV, XLSX) and the record of controls, rendered from the read models replayed at
 * a point of the log, in Japanese or English from message catalogues (messages/). No events, no
 * read model of its own: nothing to contribute to the platform (src/features.ts).
 */
@Module({
  controllers: [DocumentsController],
  providers: [DocumentSource, DocumentsService, ControlsDocumentResolver],
})
export class DocumentsModule {}
