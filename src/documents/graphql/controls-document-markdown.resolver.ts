import { Parent, ResolveField, Resolver } from '@nestjs/graphql';
import type { ControlsDocumentView } from '../../risk-register/application/controls-document.js';
import { ControlsDocument } from '../../risk-register/graphql/risk.types.js';
import { DocumentsService } from '../application/documents.service.js';

/**
 * `ControlsDocument.markdown`: the risk register returns the record's content, the documents
 * module renders it (one template for GraphQL and GET /documents/controls.md), in Japanese, the
 * documents' default language; the download takes `?lang=en`.
 */
@Resolver(() => ControlsDocument)
export class ControlsDocumentMarkdownResolver {
  constructor(private readonly documents: DocumentsService) {}

  @ResolveField(() => String, { description: 'The same document as Markdown (also at GET /documents/controls.md).' })
  markdown(@Parent() document: ControlsDocumentView): Promise<string> {
    return this.documents.controlsMarkdown(document.entries, 'ja');
  }
}
