import { Catch, type ArgumentsHost } from '@nestjs/common';
import { GqlArgumentsHost, type GqlExceptionFilter } from '@nestjs/graphql';
import { responsePathAsArray } from 'graphql';
import { InvalidPositionError } from '../event-store/hash-chain.js';
import { storeUnavailable } from '../shared/application/store-unavailable.js';
import { describeError } from '../shared/application/transient-errors.js';
import { DomainError } from '../shared/domain/errors.js';
import { rootLogger } from '../shared/logging/json-logger.js';

const log = rootLogger.child('graphql-errors');

/**
 * What storeUnavailable answers STORE_UNAVAILABLE (a database away, a full disk), as a class
 * Nest's @Catch can match: a driver's errors share no class of their own (pg's connection errors
 * are plain Errors). The test is storeUnavailable's, its one home.
 */
class StoreOutOfReach {
  static [Symbol.hasInstance](error: unknown): boolean {
    return storeUnavailable(error) !== undefined;
  }
}

/**
 * Domain errors are answers, not failures: hand them to Apollo (formatGraphQLError shapes them)
 * without Nest logging each one as an unhandled exception with its stack. So is a cursor or
 * position a client made up (formatGraphQLError answers it BAD_USER_INPUT), and a store out of
 * reach while a query reads the log: answered STORE_UNAVAILABLE with one warning line, where Nest
 * logged the driver's error at error level with its stack (operations probe 10-c L6). Commands
 * map it in the executor; this is the queries' side.
 */
@Catch(DomainError, InvalidPositionError, StoreOutOfReach)
export class DomainErrorFilter implements GqlExceptionFilter {
  catch(exception: Error, host: ArgumentsHost): Error {
    const unavailable = exception instanceof DomainError ? undefined : storeUnavailable(exception);
    if (!unavailable) return exception;
    const info = host.getType<string>() === 'graphql' ? GqlArgumentsHost.create(host).getInfo() : undefined;
    log.warn('operation refused: the event store is unavailable', { path: info ? responsePathAsArray(info.path) : undefined, error: describeError(exception) });
    return unavailable;
  }
}
