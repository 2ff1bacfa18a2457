import { Controller, Get, Headers, Query as QueryParam, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { TokenVerifier } from '../../identity/token-verifier.js';
import { checkOperation } from '../../identity/access-policy.js';
import { DomainError } from '../../shared/domain/errors.js';
import { domainExtensions } from '../../graphql/error-format.js';
import { ControlsDocumentQuery } from '../application/risk-queries.js';

interface PlainResponse {
  status(code: number): PlainResponse;
  type(contentType: string): PlainResponse;
  setHeader(name: string, value: string): void;
  send(body: string): void;
  json(body: unknown): void;
}

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400 };

/** GET /documents/controls.md[?riskId=…]: the Art.18(2) document as a file, with the same bearer token as GraphQL. */
@Controller('documents')
export class ControlsDocumentController {
  constructor(private readonly verifier: TokenVerifier, private readonly queries: QueryBus) {}

  @Get('controls.md')
  async controls(@Headers('authorization') authorization: string | undefined, @QueryParam('riskId') riskId: string | undefined, @Res() res: PlainResponse): Promise<void> {
    try {
      const actor = await this.verifier.verifyAuthorization(authorization);
      const denied = checkOperation('query', 'controlsDocument', actor);
      if (denied) return void res.status(403).json({ error: { code: 'FORBIDDEN', message: denied } });
      const doc = await this.queries.execute(new ControlsDocumentQuery(typeof riskId === 'string' && riskId !== '' ? riskId : null, new Date()));
      res.setHeader('content-disposition', 'attachment; filename="controls.md"');
      res.status(200).type('text/markdown; charset=utf-8').send(doc.markdown);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      res.status(STATUS[error.code] ?? 400).json({ error: { message: error.message, ...domainExtensions(error) } });
    }
  }
}
