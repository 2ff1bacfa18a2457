import { Inject, Module, RequestMethod, type MiddlewareConsumer, type NestModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import type { SigningKeys } from '../event-store/signing.js';
import { SIGNING_KEYS } from '../platform/signing-keys.js';
import { UNCLEAN_STOP, type UncleanStop } from '../platform/unclean-stop.js';
import { CHECKPOINT_FAILED } from '../event-store/sqlite/wal-checkpoints.js';
import { JsonLogger } from '../shared/logging/json-logger.js';
import { WriteGates } from '../shared/application/write-gates.js';
import { ACCESS_LOG, AccessLogStore, accessLogPath, type AccessLog, type CheckableAccessLog } from './application/access-log.js';
import { PostgresAccessLog, postgresAccessLogAnchorPath } from './application/access-log-postgres.js';
import { AccessLogVerificationResolver } from './graphql/access-log-verification.resolver.js';
import { DownloadAccessLogMiddleware, LOGGED_DOWNLOAD_ROUTES } from './graphql/access-log.downloads.js';
import { AccessLogResolver } from './graphql/access-log.resolver.js';
import { EventLogResolver } from './graphql/event-log.resolver.js';
import { IntegrityResolver } from './graphql/integrity.resolver.js';
import { OperationsResolver } from './graphql/operations.resolver.js';

export { accessLogPath } from './application/access-log.js';

/**
 * What auditors use (Art. 23(2), 31(6), 34(3)): the log itself (history, events, eventAppended),
 * the integrity proof, the access log and its verification; and the operators' rebuild of the
 * read models. Exports the access log, which the GraphQL module's plugin writes to; records
 * every request under /documents/ and /evidence/ in it.
 *
 * The access log is opened before the server serves: it refuses to go on over a log that went
 * missing or lost entries (see AccessLogStore.open), and a store whose event log holds events
 * but has neither an access log nor its anchor counts as one whose access log went missing. After
 * an unclean stop (a stale lock taken over), it first records that stop in itself. While its
 * entries cannot be written (or too many wait), requests' commands are refused (the gate it adds
 * to WriteGates) and so, at its cap, is every request (access-log-backlog.ts).
 */
@Module({
  providers: [
    {
      provide: ACCESS_LOG,
      inject: [APP_CONFIG, JsonLogger, SIGNING_KEYS, EVENT_STORE, UNCLEAN_STOP],
      useFactory: (config: AppConfig, logger: JsonLogger, signing: SigningKeys, store: EventStore, unclean: UncleanStop | null): Promise<CheckableAccessLog> => {
        if (unclean?.head) logger.warn('the previous run did not stop cleanly: recording it in the access log (UncleanStopRecovered), so that the changes it committed last without an entry are acknowledged', unclean.head);
        const common = {
          logger: logger.child('access-log'),
          signing,
          reset: config.accessLogReset,
          maxQueued: config.accessLogMaxQueued,
          priorState: async () => ((await store.headPosition()) !== null ? 'the event log already holds events' : null),
          // verifyAccessLog's cross-check, shared by concurrent calls with the walk of the log itself.
          events: store,
          // Written before the server answers any request (access-log-system-entries.ts).
          uncleanStop: unclean?.head ?? null,
        };
        // On PostgreSQL every instance appends to one shared log; elsewhere it is a local file.
        if (config.eventStore === 'postgres' && config.databaseUrl) {
          return PostgresAccessLog.open({ ...common, connectionString: config.databaseUrl, anchorPath: postgresAccessLogAnchorPath(config.dataDir) });
        }
        const warn = (message: string) => common.logger.warn(`access log: ${CHECKPOINT_FAILED}`, { error: message });
        const path = accessLogPath(config);
        return AccessLogStore.open(path, { ...common, checkpointOffLoop: { warn }, writeOffLoop: true }).then((log) => {
          common.logger.info('access log: open', { path, thread: log.thread });
          return log;
        });
      },
    },
    EventLogResolver,
    IntegrityResolver,
    AccessLogResolver,
    AccessLogVerificationResolver,
    OperationsResolver,
    DownloadAccessLogMiddleware,
  ],
  exports: [ACCESS_LOG],
})
export class AuditModule implements NestModule, OnApplicationShutdown {
  constructor(@Inject(ACCESS_LOG) private readonly accessLog: AccessLog, gates: WriteGates) {
    // No request's command is committed while its entry could not be written (access-log-backlog.ts).
    gates.add(accessLog.backlog);
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DownloadAccessLogMiddleware).forRoutes(...LOGGED_DOWNLOAD_ROUTES.map((path) => ({ path, method: RequestMethod.ALL })));
  }

  /** Runs after the HTTP server has stopped taking requests: writes what is queued, then closes the store. */
  async onApplicationShutdown(): Promise<void> {
    await this.accessLog.close();
  }
}
