import { Inject } from '@nestjs/common';
import { Args, Context, ID, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AS_OF_DESCRIPTION, AT_POSITION_DESCRIPTION } from '../../graphql/descriptions.js';
import { withinResultBudget } from '../../graphql/result-budget.js';
import { StrictDateTime } from '../../graphql/scalars.js';
import { CONTROLS_MARKDOWN_DESCRIPTION, ControlsDocument } from '../../risk-register/graphql/risk.types.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import { controlsDocumentAnswer, type ControlsDocumentAnswer } from '../application/controls-document-view.js';
import { DocumentsService } from '../application/documents.service.js';

/**
 * GraphQL's `controlsDocument`: the Art.18(2) record read by the documents module at a point of
 * the log (its head when none), through the same replay as GET /documents/controls.md
 * (DocumentsService.controlsRecord), so that both give the same record for the same point and
 * name the event it ends with. `markdown` is the same template with the same source block, in
 * Japanese, the documents' default language; the download takes `?lang=en`.
 */
@Resolver(() => ControlsDocument)
export class ControlsDocumentResolver {
  constructor(
    private readonly documents: DocumentsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Query(() => ControlsDocument, {
    description:
      'The record of controls and the reasons they were adopted (Art.18(2)), for one risk or all: at the head of the log, or with asOf or atPosition as it stood then (rebuilt from the log). The same record as GET /documents/controls.md for the same point; logPosition names the event it ends with. Any authenticated role. Errors: NOT_FOUND (riskId); BAD_USER_INPUT (asOf, atPosition).',
  })
  async controlsDocument(
    @Args('riskId', { type: () => ID, nullable: true, description: 'Only this risk; omit for every risk.' }) riskId?: string | null,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ): Promise<ControlsDocumentAnswer> {
    const record = await this.documents.controlsRecord(riskId ?? null, pointInTime(asOf, atPosition));
    return controlsDocumentAnswer(record, this.clock.now());
  }

  // Charged to the request's result budget: each alias renders the whole record (6.3 MB at 13,470
  // risks), and 19 of them held the loop 6-7 s and 1.6 GB (probe p12). Each render is bounded by
  // DOCUMENT_MAX_BYTES as the download is (DocumentsService.controlsMarkdown): QUERY_TOO_COMPLEX past it.
  @ResolveField(() => String, { description: CONTROLS_MARKDOWN_DESCRIPTION })
  markdown(@Parent() document: ControlsDocumentAnswer, @Context() context: object): Promise<string> {
    return withinResultBudget(context, 'controlsDocument.markdown', () => this.documents.controlsMarkdown(document.record, 'ja'), (markdown) => Buffer.byteLength(markdown, 'utf8'));
  }
}
