import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, ConfigError, defaultReadModelPath, type AppConfig } from '../config/app-config.js';
import { appConfigProvider, configModule } from '../config/config.providers.js';
import { instrumentAppends } from '../event-store/instrumentation.js';
import { Metrics } from './observability/metrics.js';
import { openConfiguredEventStore } from './configured-event-store.js';
import { DataDirLock, type LocalStateLock } from './data-dir-lock.js';
import { headAtStart, UNCLEAN_STOP, type UncleanStop } from './unclean-stop.js';
import { configuredSigningKeys, refuseNewKeyOverSignedLog, SIGNING_KEYS } from './signing-keys.js';
import { monitorVerification } from './worker-log-verification.js';
import { IntegrityMonitor } from './integrity-monitor.js';
import { integrityStatePath, refuseMissingLog } from './integrity-state.js';
import { refuseUnfinishedRestore } from './restore-marker.js';
import { dirname, join } from 'node:path';
import type { SigningKeys } from '../event-store/signing.js';
import { followUpsOf, projectionsOf, reactionsOf, upcastersOf, upgradesOf, type FeatureContribution } from './feature-contribution.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { AsOfReplayer } from '../projections/as-of-replay.js';
import { FileReplaySnapshots, MemoryReplaySnapshots, REPLAY_SNAPSHOTS, type ReplaySnapshotStore } from '../projections/replay-snapshots.js';
import { ReplayFiles } from '../projections/replay-files.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { openDisposableDatabase, openReadModelDatabase, READ_DB, READ_MODELS_TABLE, refuseForeignFile, type ReadDb } from '../projections/read-model-database.js';
import { AggregateReader } from '../shared/application/aggregate-reader.js';
import { CLOCK, SystemClock, type Clock } from '../shared/application/clock.js';
import { CommandExecutor } from '../shared/application/command-executor.js';
import { CommandAdmissions } from '../shared/application/command-admission.js';
import { WriteGates } from '../shared/application/write-gates.js';
import { EventUpcasters } from '../shared/application/event-upcasting.js';
import { LiveEvents } from '../shared/application/live-events.js';
import { ProcessManager } from '../shared/application/process-manager.js';
import { runLogUpgrades } from '../shared/application/log-upgrades.js';
import { PROCESS_CHECKPOINTS_TABLE, SoleInstance } from '../shared/application/reactions-coordination.js';
import { assertPathsWritable, sqliteFiles } from '../shared/application/writable-paths.js';
import { describeError } from '../shared/application/transient-errors.js';
import { PostgresCoordination } from './postgres-coordination.js';
import { PROCESS_MANAGER_ACTOR } from '../shared/application/reactions.js';
import { JsonLogger, rootLogger } from '../shared/logging/json-logger.js';
import { ACCESS_LOG_FILE } from '../config/own-files.js';

/**
 * Name of the reactions' checkpoint. It keys the stored checkpoint, so it keeps the name it had
 * when the plan↔risk reactions were the only ones.
 */
export const REACTIONS_CHECKPOINT = 'plan-risk-reactions';

/** On one instance, the reactions' checkpoint is written at most this often (SoleInstanceOptions). */
const REACTIONS_CHECKPOINT_EVERY_MS = 250;

/** The read models' file: a damaged one is moved aside only when it is recognisably theirs (read-model-database.ts). */
function readModelsFile(config: AppConfig) {
  return { label: 'read models', ownTable: READ_MODELS_TABLE, setting: 'READ_MODEL_PATH', ownsPath: config.readModelPath === defaultReadModelPath(config.dataDir) };
}

/**
 * The local files the server writes, that exist: the embedded store's (with -wal and -shm), the
 * read models', the process checkpoint's, the access log's, and the folders they are created in.
 */
function localFilesWritten(config: AppConfig): { path: string; what: string }[] {
  const files: { path: string; what: string }[] = [];
  if (config.eventStore === 'sqlite') files.push({ path: dirname(config.sqlitePath), what: "the event store's folder" }, ...sqliteFiles(config.sqlitePath, "the event store's file (SQLITE_PATH)"));
  if (config.eventStore === 'memory') return files;
  files.push({ path: config.dataDir, what: 'DATA_DIR' });
  if (config.readModelPath !== ':memory:') files.push({ path: dirname(config.readModelPath), what: "the read models' folder" }, ...sqliteFiles(config.readModelPath, "the read models' file (READ_MODEL_PATH)"));
  files.push(...sqliteFiles(config.processManagerPath, "the process manager's checkpoint"), ...sqliteFiles(join(config.dataDir, ACCESS_LOG_FILE), 'the access log'));
  return files;
}

/** Nest token of DATA_DIR's lock (a no-op without local files). */
const DATA_DIR_LOCK = Symbol('DATA_DIR_LOCK');

/**
 * Nest token of the event store as opened, with how the previous run ended (EVENT_STORE and
 * UNCLEAN_STOP derive from it). Provider state, one per application: forRoot's definition is
 * shared by every application built from it (tests start several in a process).
 */
const OPENED_STORE = Symbol('OPENED_STORE');
interface OpenedStore {
  store: EventStore;
  uncleanStop: UncleanStop | null;
}

/**
 * The process-wide plumbing: configuration, the event store (opened before anything reads it),
 * the read-model database, the projection runner, the reactions, the command pipeline and the
 * live feed. It knows no feature: the root hands it the features' contributions.
 */
@Global()
@Module({})
export class PlatformModule implements OnApplicationShutdown {
  static forRoot(features: readonly FeatureContribution[]): DynamicModule {
    const projections = projectionsOf(features);
    const followUps = followUpsOf(features);
    return {
      module: PlatformModule,
      global: true,
      imports: [configModule()],
      providers: [
        appConfigProvider,
        { provide: JsonLogger, useValue: rootLogger },
        { provide: CLOCK, useFactory: () => new SystemClock() },
        // After the locks: a server refused for a store another one writes leaves no key behind.
        { provide: SIGNING_KEYS, inject: [APP_CONFIG, JsonLogger, DATA_DIR_LOCK], useFactory: (config: AppConfig, log: JsonLogger) => configuredSigningKeys(config, log) },
        // Prometheus metrics (observability/metrics.ts): the lower layers report through their own small interfaces.
        { provide: Metrics, useFactory: () => new Metrics() },
        {
          // Opened once the locks are held: the embedded store's file has one writing process. With
          // it, how the previous run ended: the head it left is read here, before any other
          // provider has the store (the reactions append while they start).
          provide: OPENED_STORE,
          inject: [APP_CONFIG, SIGNING_KEYS, DATA_DIR_LOCK, JsonLogger],
          useFactory: async (config: AppConfig, keys: SigningKeys, lock: LocalStateLock, log: JsonLogger): Promise<OpenedStore> => {
            // The lock holding the store's file, no other process commits to it.
            const store = await openConfiguredEventStore(config, keys.signer, { soleWriter: lock.holdsStore });
            for (const warning of (await store.health()).warnings ?? []) log.warn(warning, {});
            return { store, uncleanStop: lock.tookOverStale ? { head: await headAtStart(store) } : null };
          },
        },
        { provide: EVENT_STORE, inject: [OPENED_STORE, Metrics], useFactory: (opened: OpenedStore, metrics: Metrics) => instrumentAppends(opened.store, metrics) },
        // Whether the previous run stopped uncleanly (a stale lock taken over), and the log's head it left: this application's own.
        { provide: UNCLEAN_STOP, inject: [OPENED_STORE], useFactory: (opened: OpenedStore): UncleanStop | null => opened.uncleanStop },
        // DATA_DIR's local state belongs to one process (npm run cli -- rebuild refuses while it is
        // held), and so does the embedded store's file, wherever SQLITE_PATH puts it.
        {
          provide: DATA_DIR_LOCK,
          inject: [APP_CONFIG, JsonLogger],
          useFactory: (config: AppConfig, log: JsonLogger): LocalStateLock => {
            // Files the server writes, left unwritable (a restore done as root): one line now, not a
            // failure per write. First of all: a folder it may not write failed in the read models'
            // check below with SQLite's "attempt to write a readonly database", naming nothing.
            assertPathsWritable(localFilesWritten(config));
            const store = config.eventStore === 'sqlite' ? config.sqlitePath : undefined;
            let held: LocalStateLock;
            if (config.readModelPath === ':memory:') {
              const lock = store ? DataDirLock.acquireStore(store, 'server', log) : null;
              held = { release: () => lock?.release(), watch: (logger, onLost) => lock?.watch(logger, onLost), tookOverStale: lock?.tookOverFrom != null, holdsStore: lock !== null };
            } else {
              // A READ_MODEL_PATH that is not ours is refused before its folder gets a lock file.
              refuseForeignFile(config.readModelPath, readModelsFile(config));
              held = DataDirLock.acquireLocalState(config.dataDir, config.readModelPath, 'server', log, store);
            }
            // Under the lock, before anything opens a file: DATA_DIR mid-restore, or without its log.
            try {
              refuseUnfinishedRestore(config);
              refuseMissingLog(config);
            } catch (error) {
              held.release();
              throw error;
            }
            // Lost to another process (its lock file removed under this one and taken): this server
            // gives way, as at a SIGTERM, rather than write beside it.
            held.watch(log, (why) => {
              log.error(`the server's lock was taken by another process: shutting down so that one process writes (${why})`, {});
              process.kill(process.pid, 'SIGTERM');
            });
            return held;
          },
        },
        {
          // A damaged file is moved aside and recreated empty; the runner then rebuilds it from the log.
          provide: READ_DB,
          inject: [APP_CONFIG, JsonLogger, DATA_DIR_LOCK],
          useFactory: (config: AppConfig, log: JsonLogger) => openReadModelDatabase(config.readModelPath, { ...readModelsFile(config), logger: log.child('local-state'), maxPages: config.readModelMaxPages }),
        },
        {
          // Verifies the log before anything is served, then every new commit (see integrity-monitor.ts).
          provide: IntegrityMonitor,
          inject: [APP_CONFIG, EVENT_STORE, SIGNING_KEYS, JsonLogger],
          useFactory: async (config: AppConfig, store: EventStore, keys: SigningKeys, log: JsonLogger) => {
            await refuseNewKeyOverSignedLog(keys, store);
            const integrityLog = log.child('integrity');
            const monitor = new IntegrityMonitor(store, keys.trusted, integrityStatePath(config), integrityLog, {
              intervalMs: config.integrityCheckIntervalMs,
              // The embedded store's verifications in a worker thread, off the requests' thread.
              verification: monitorVerification(store, keys.trusted, config.eventStore === 'sqlite' ? config.sqlitePath : null, integrityLog),
            });
            await monitor.start();
            return monitor;
          },
        },
        { provide: EventUpcasters, useFactory: () => upcastersOf(features) },
        {
          provide: AggregateReader,
          inject: [EVENT_STORE, EventUpcasters, SIGNING_KEYS],
          useFactory: (store: EventStore, upcasters: EventUpcasters, keys: SigningKeys) => new AggregateReader(store, upcasters, { snapshotSecret: keys.signer.derivedSecret?.('stream-snapshots') }),
        },
        {
          // Stored snapshots of the read models that register-wide asOf starts from (one store per
          // process: the live runner leaves them as it goes, replays leave them too).
          provide: REPLAY_SNAPSHOTS,
          inject: [APP_CONFIG, SIGNING_KEYS],
          useFactory: (config: AppConfig, keys: SigningKeys): ReplaySnapshotStore =>
            config.eventStore === 'memory'
              ? new MemoryReplaySnapshots(config.replaySnapshots.keep)
              : new FileReplaySnapshots(join(config.dataDir, 'replay-snapshots'), config.replaySnapshots.keep, keys.signer.derivedSecret?.('replay-snapshots')),
        },
        {
          provide: ProjectionRunner,
          inject: [APP_CONFIG, EVENT_STORE, READ_DB, EventUpcasters, JsonLogger, REPLAY_SNAPSHOTS, IntegrityMonitor],
          useFactory: async (config: AppConfig, store: EventStore, db: ReadDb, upcasters: EventUpcasters, log: JsonLogger, snapshots: ReplaySnapshotStore, integrity: IntegrityMonitor) => {
            const runner = new ProjectionRunner(store, db, projections(), upcasters.upcast, log);
            runner.storeReplaySnapshots(snapshots, config.replaySnapshots.every);
            // Nothing past where the log fails verification is applied (a null first position: nothing more).
            runner.holdFrom(() => (integrity.status === 'BROKEN' ? (integrity.failure?.firstBrokenPosition ?? runner.checkpoint ?? '') : null));
            runner.start();
            // Read models ahead of the log: the log lost events they saw (BROKEN, not rebuilt).
            await integrity.witness('the read models', runner.startedAfter);
            return runner;
          },
        },
        {
          // Cross-aggregate reactions (plan ↔ risks, avoidance → assets). Its own commands wait only
          // for the projections; it must not wait for itself.
          provide: ProcessManager,
          // Its checkpoint lives apart from the read models, which may be deleted and rebuilt at will.
          inject: [APP_CONFIG, EVENT_STORE, ProjectionRunner, EventUpcasters, AggregateReader, CLOCK, JsonLogger, IntegrityMonitor, Metrics],
          useFactory: async (config: AppConfig, store: EventStore, runner: ProjectionRunner, upcasters: EventUpcasters, aggregates: AggregateReader, clock: Clock, log: JsonLogger, integrity: IntegrityMonitor, metrics: Metrics) => {
            const executor = new CommandExecutor(store, runner, upcasters, integrity, { instrumentation: metrics, aggregates, followUps });
            // On PostgreSQL several instances share the log: one of them reacts (an advisory lock), from
            // a checkpoint in the shared database. Alone on SQLite or memory, the checkpoint is a local
            // file (damaged: moved aside and recreated; start() then recovers it from the log).
            const coordination =
              config.eventStore === 'postgres' && config.databaseUrl
                ? new PostgresCoordination(config.databaseUrl, 'risk_ledger', log.child('coordination'))
                : new SoleInstance(openDisposableDatabase(config.processManagerPath, { logger: log.child('local-state'), label: 'process-manager checkpoint', ownTable: PROCESS_CHECKPOINTS_TABLE, ownsPath: true }), {
                    saveEveryMs: REACTIONS_CHECKPOINT_EVERY_MS,
                    onDeferredSaveError: (error) => log.warn('process manager checkpoint not written: tried again at the next save', { error: describeError(error) }),
                  });
            const deps = { executor, aggregates, store, clock };
            const manager = new ProcessManager(REACTIONS_CHECKPOINT, store, coordination, reactionsOf(features, deps), upcasters.upcast, log.child('process-manager'), PROCESS_MANAGER_ACTOR.id);
            manager.holdFrom(integrity);
            // What earlier builds left out of the log, appended by whichever instance runs the reactions.
            const upgrades = upgradesOf(features, deps);
            const upgradeLog = log.child('log-upgrades');
            manager.whileLeading((stopping) => runLogUpgrades(upgrades, stopping, upgradeLog));
            await manager.start();
            await integrity.witness('the reactions', manager.checkpoint);
            return manager;
          },
        },
        // The requests' commands' gate (the reactions' executor above has the integrity monitor's alone).
        { provide: WriteGates, inject: [IntegrityMonitor], useFactory: (integrity: IntegrityMonitor) => new WriteGates(integrity) },
        // The rules the requests' commands pass on the log at each attempt, those features add (the token revocations).
        { provide: CommandAdmissions, useFactory: () => new CommandAdmissions() },
        {
          // Client commands return once the projections AND the reactions they trigger are done
          // (read-your-writes across aggregates: an approved plan's risks await consent at once).
          provide: CommandExecutor,
          inject: [EVENT_STORE, ProjectionRunner, ProcessManager, EventUpcasters, WriteGates, Metrics, AggregateReader, CommandAdmissions],
          useFactory: (store: EventStore, runner: ProjectionRunner, manager: ProcessManager, upcasters: EventUpcasters, gates: WriteGates, metrics: Metrics, aggregates: AggregateReader, admissions: CommandAdmissions) => {
            // Lags (events and seconds behind the log's head) are measured when /metrics is read.
            metrics.followLag(store, { projections: runner, reactions: manager });
            return new CommandExecutor(
              store,
              {
                waitFor: async (position) => {
                  await runner.waitFor(position);
                  if (manager.isLeading) return manager.waitFor(position);
                  // Another instance reacts: once it has, this instance's read models catch up with what it wrote.
                  await manager.waitFor(position);
                  const head = await store.headPosition();
                  if (head !== null) await runner.waitFor(head);
                },
              },
              upcasters,
              // The integrity monitor's gate, and those features add (the access log's).
              gates,
              // The handlers' reader: a command on a stream just written then reads only its last event.
              { awaitReactionCascade: true, reactsTo: (type) => manager.reactsTo(type), instrumentation: metrics, aggregates, followUps, admissions },
            );
          },
        },
        {
          provide: LiveEvents,
          inject: [EVENT_STORE, JsonLogger],
          useFactory: async (store: EventStore, log: JsonLogger) => {
            const live = new LiveEvents(store, log);
            await live.start();
            return live;
          },
        },
        {
          provide: AsOfReplayer,
          inject: [APP_CONFIG, EVENT_STORE, EventUpcasters, Metrics, REPLAY_SNAPSHOTS],
          // Register-wide asOf starts from the nearest stored snapshot of the read models.
          useFactory: (config: AppConfig, store: EventStore, upcasters: EventUpcasters, metrics: Metrics, snapshots: ReplaySnapshotStore) => {
            // Its replays in files beside the stored snapshots, in a folder no other process uses
            // (DATA_DIR is locked); the memory store's in the system's temporary folder.
            const files = config.eventStore === 'memory' ? new ReplayFiles() : new ReplayFiles(join(config.dataDir, 'replays'), true);
            try {
              files.prepare();
            } catch (error) {
              throw new ConfigError(`the time-travel replays' folder ${files.where} cannot be made (${(error as Error).message}): DATA_DIR must be writable, and replays/ in it a folder`, 'DATA_DIR');
            }
            return new AsOfReplayer(store, upcasters, projections, undefined, metrics, { store: snapshots, every: config.replaySnapshots.every }, files);
          },
        },
      ],
      exports: [APP_CONFIG, UNCLEAN_STOP, Metrics, JsonLogger, CLOCK, SIGNING_KEYS, IntegrityMonitor, WriteGates, CommandAdmissions, EVENT_STORE, READ_DB, EventUpcasters, AggregateReader, ProjectionRunner, CommandExecutor, LiveEvents, AsOfReplayer, ProcessManager],
    };
  }

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_DB) private readonly db: ReadDb,
    private readonly runner: ProjectionRunner,
    private readonly live: LiveEvents,
    private readonly replayer: AsOfReplayer,
    private readonly manager: ProcessManager,
    @Inject(DATA_DIR_LOCK) private readonly lock: { release(): void },
    private readonly integrity: IntegrityMonitor,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.live.stop();
    await this.integrity.stop();
    await this.manager.close();
    await this.runner.stop();
    await this.store.close();
    this.replayer.close();
    this.db.close();
    this.lock.release();
  }
}
