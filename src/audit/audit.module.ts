import { join } from 'node:path';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { JsonLogger } from '../shared/logging/json-logger.js';
import { ACCESS_LOG, AccessLogStore } from './application/access-log.js';
import { AccessLogResolver } from './graphql/access-log.resolver.js';
import { EventLogResolver } from './graphql/event-log.resolver.js';
import { IntegrityResolver } from './graphql/integrity.resolver.js';
import { OperationsResolver } from './graphql/operations.resolver.js';

/** Where the access log lives: DATA_DIR/access-log.sqlite, or in memory with the in-memory store. */
export function accessLogPath(config: AppConfig): string {
  return config.eventStore === 'memory' ? ':memory:' : join(config.dataDir, 'access-log.sqlite');
}

/**
 * What auditors use (Art. 23(2), 31(6), 34(3)): the log itself (history, events, eventAppended),
 * the integrity proof, the access log; and the operators' rebuild of the read models.
 * Exports the access log, which the GraphQL module's plugin writes to.
 */
@Module({
  providers: [
    {
      provide: ACCESS_LOG,
      inject: [APP_CONFIG, JsonLogger],
      useFactory: (config: AppConfig, logger: JsonLogger) => new AccessLogStore(accessLogPath(config), { logger: logger.child('access-log') }),
    },
    EventLogResolver,
    IntegrityResolver,
    AccessLogResolver,
    OperationsResolver,
  ],
  exports: [ACCESS_LOG],
})
export class AuditModule implements OnApplicationShutdown {
  constructor(@Inject(ACCESS_LOG) private readonly accessLog: AccessLogStore) {}

  /** Runs after the HTTP server has stopped taking requests: writes what is queued, then closes the file. */
  onApplicationShutdown(): void {
    this.accessLog.close();
  }
}
