import { Context, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { withinResultBudget } from '../../graphql/result-budget.js';
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

  // Charged to the request's result budget: each alias renders the whole record (6.3 MB at 13,470
  // risks), and 19 of them held the loop 6-7 s and 1.6 GB (probe p12).
  @ResolveField(() => String, { description: "The same document as Markdown (also at GET /documents/controls.md). Errors: QUERY_TOO_COMPLEX when the request's unpaged lists and documents pass 16 MB." })
  markdown(@Parent() document: ControlsDocumentView, @Context() context: object): Promise<string> {
    return withinResultBudget(context, 'controlsDocument.markdown', () => this.documents.controlsMarkdown(document.entries, 'ja'), (markdown) => Buffer.byteLength(markdown, 'utf8'));
  }
}
