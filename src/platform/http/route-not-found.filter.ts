import { Catch, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/**
 * A path no route serves answers in the REST endpoints' own shape (`{ error: { code, message } }`,
 * as /evidence and /documents do), not Nest's default `{ message: "Cannot GET …", statusCode }`,
 * and without echoing the path the client sent. GraphQL never meets it (its errors are Apollo's).
 */
@Catch(NotFoundException)
export class RouteNotFoundFilter implements ExceptionFilter {
  catch(_exception: NotFoundException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw _exception;
    const res = host.switchToHttp().getResponse<ServerResponse>();
    if (res.headersSent) return void res.end();
    const body = JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No resource at this path for this method: see the README for the endpoints (/graphql, /documents, /evidence, /health, /metrics)' } });
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
  }
}
