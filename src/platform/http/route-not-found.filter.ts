import { BadRequestException, Catch, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/**
 * Nest's and Express's own refusals on the plain HTTP side answer in the REST endpoints' shape
 * (`{ error: { code, message } }`, as /evidence and /documents do), not Nest's default
 * `{ message, error, statusCode }`, and never echo what the client sent:
 *   - a path no route serves: 404 NOT_FOUND;
 *   - a path whose percent-encoding is not UTF-8 (`/evidence/%ff`: Express refuses to decode the
 *     parameter, Nest turns that into a BadRequestException that quoted it): 400 BAD_USER_INPUT.
 * Only these two: a filter that rethrows on the HTTP side leaves Express to answer in HTML (the
 * health checks' 503 is terminus's own JSON, and must stay so). GraphQL never meets it (its
 * errors are Apollo's).
 */
@Catch(NotFoundException, BadRequestException)
export class RouteNotFoundFilter implements ExceptionFilter {
  catch(exception: NotFoundException | BadRequestException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const status = exception.getStatus();
    const res = host.switchToHttp().getResponse<ServerResponse>();
    if (res.headersSent) return void res.end();
    const error =
      exception instanceof NotFoundException
        ? { code: 'NOT_FOUND', message: 'No resource at this path for this method: see the README for the endpoints (/graphql, /documents, /evidence, /health, /metrics)' }
        : { code: 'BAD_USER_INPUT', message: exception.cause instanceof URIError ? 'The path is not valid percent-encoded UTF-8 text' : 'The request was refused as malformed' };
    const body = JSON.stringify({ error });
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
  }
}
