import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { InvalidPositionError } from '../event-store/hash-chain.js';
import { DomainError } from '../shared/domain/errors.js';

/**
 * Domain errors are answers, not failures: hand them to Apollo (formatGraphQLError shapes them)
 * without Nest logging each one as an unhandled exception with its stack. So is a cursor or
 * position a client made up (formatGraphQLError answers it BAD_USER_INPUT).
 */
@Catch(DomainError, InvalidPositionError)
export class DomainErrorFilter implements GqlExceptionFilter {
  catch(exception: DomainError | InvalidPositionError): DomainError | InvalidPositionError {
    return exception;
  }
}
