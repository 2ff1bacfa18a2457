import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { DomainError } from '../shared/domain/errors.js';

/**
 * Domain errors are answers, not failures: hand them to Apollo (formatGraphQLError shapes them)
 * without Nest logging each one as an unhandled exception with its stack.
 */
@Catch(DomainError)
export class DomainErrorFilter implements GqlExceptionFilter {
  catch(exception: DomainError): DomainError {
    return exception;
  }
}
