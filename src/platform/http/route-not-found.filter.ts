import { Catch, HttpException, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/**
 * Nest's and Express's own refusals on the plain HTTP side answer in the REST endpoints' shape
 * (`{ error: { code, message } }`, as /evidence and /documents do), not Nest's default
 * `{ message, error, statusCode }`, and never echo what the client sent:
 *   - a path no route serves: 404 NOT_FOUND;
 *   - a path whose percent-encoding is not UTF-8 (`/evidence/%ff`: Express refuses to decode the
 *     parameter, Nest turns that into a BadRequestException that quoted it): 400 BAD_USER_INPUT;
 *   - any other HttpException from 400 to 499: its status, BAD_USER_INPUT (FORBIDDEN,
 *     UNAUTHENTICATED for 403 and 401). From 500 on it is left to Nest (logged, generic 500).
 * GraphQL never meets it (its errors are Apollo's).
 */
@Catch(HttpException)
export class RouteNotFoundFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const status = exception.getStatus();
    if (host.getType() !== 'http' || status < 400 || status >= 500) throw exception;
    const res = host.switchToHttp().getResponse<ServerResponse>();
    if (res.headersSent) return void res.end();
    const error =
      exception instanceof NotFoundException
        ? { code: 'NOT_FOUND', message: 'No resource at this path for this method: see the README for the endpoints (/graphql, /documents, /evidence, /health, /metrics)' }
        : exception.cause instanceof URIError
          ? { code: 'BAD_USER_INPUT', message: 'The path is not valid percent-encoded UTF-8 text' }
          : { code: status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : 'BAD_USER_INPUT', message: `The request was refused (HTTP ${status})` };
    const body = JSON.stringify({ error });
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
  }
}
