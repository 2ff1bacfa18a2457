#!/usr/bin/env node
/**
 * `risk-ledger`: the command line of Risk Ledger, run from the built output (package.json `bin`,
 * `npm run cli -- <command>`, `npm run -s token -- ...`). Every command but `verify` and `token`
 * works on the store chosen as for the server (EVENT_STORE, SQLITE_PATH, DATA_DIR, READ_MODEL_PATH…).
 *
 * Results go to stdout (one JSON line, then one sentence; `token` prints the token alone);
 * structured logs and progress bars go to stderr. A mistake on the command line is one line on
 * stderr, never a stack. Exit status: 0 ok, 1 the log or export is broken, 2 usage,
 * configuration or refusal.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, ConfigError } from '../config/app-config.js';
import { dirname, resolve } from 'node:path';
import { DataDirLockedError } from '../platform/data-dir-lock.js';
import { refuseUnfinishedRestore, UnfinishedRestoreError } from '../platform/restore-marker.js';
import { ImportRefusedError } from '../audit/application/evidence-import.js';
import { ExportLineTooLongError } from '../audit/application/export-lines.js';
import { EXPIRES_FORMS, TokenRequestError, issueToken } from '../identity/cli/issue-token.js';
import { ROLES } from '../shared/domain/decider.js';
import { log, MissingStoreError, result, runExport, runImport, runVerify, runVerifyAccessLog, runVerifyStore, UsageError } from './evidence-commands.js';
import { runRebuild } from './rebuild-command.js';
import { runBackup } from './backup-command.js';
import { runRestore } from './restore-command.js';
import { runVerifyReadModels } from './verify-read-models.js';

/**
 * The configuration of the commands that work on the store and local state: no token is issued or
 * verified. None of them runs on a DATA_DIR a restore left half done (its files partly the
 * installation's, partly the backup's): rebuild, backup, import or a token from the development key
 * there would act on the mixture; `restore` itself finishes the job.
 */
const storeConfig = (finishesRestore = false) => {
  const config = loadConfig(process.env, { verifiesTokens: false });
  if (!finishesRestore) refuseUnfinishedRestore(config);
  return config;
};

const NAME = 'risk-ledger';
const STORE_ENV = 'The store is chosen as for the server: EVENT_STORE, SQLITE_PATH, DATA_DIR, READ_MODEL_PATH, DATABASE_URL.';

/** Builds the program; `exit` receives each command's exit status. Commander never exits the process itself. */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command(NAME)
    .description('Risk Ledger: bearer tokens for development, and evidence for auditors and operations (export, verify, import, backup, restore, rebuild).')
    .usage('<command> [options]')
    .exitOverride()
    // Errors are printed by main() as one line; help goes to stdout as usual.
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true)
    .helpCommand('help [command]', 'show the help of a command')
    .addHelpText('after', `\nExit status: 0 ok, 1 the log or export is broken, 2 usage, configuration or refusal.\n${STORE_ENV}`);

  program
    .command('token')
    .description('print a bearer token signed with the server\'s key (JWT_SECRET, or the development key in DATA_DIR)')
    .requiredOption('--sub <id>', 'the user id the token speaks for (the actor of every event it causes)')
    .addOption(new Option('--roles <roles>', `comma-separated roles, at least one: ${ROLES.join(', ')}`))
    .option('--department <name>', 'the department (an ASSET_MANAGER acts in their own)')
    .option('--name <name>', 'display name (default: the --sub)')
    .option('--expires <duration>', `lifetime: ${EXPIRES_FORMS}; at most 90d`, '8h')
    .addHelpText('after', `\nExample:\n  TOKEN=$(npm run -s token -- --sub alice --name Alice --roles ASSET_MANAGER --department ops)\n  curl -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' ...`)
    .action(async (options: { sub: string; roles?: string; department?: string; name?: string; expires: string }) => {
      const onNewKey = (file: string) =>
        process.stderr.write(`${NAME} token: no development key was in ${dirname(file)}: one was generated at ${file}; only a server started with DATA_DIR=${dirname(file)} accepts this token\n`);
      refuseUnfinishedRestore(loadConfig()); // the development key may be among the files moved aside
      process.stdout.write((await issueToken({ ...options, onNewKey })) + '\n');
      exit(0);
    });

  program
    .command('export')
    .description('write the log to FILE (NDJSON), its signed heads to FILE.signatures.ndjson and FILE.manifest.json')
    .argument('[file]', 'the same as --out')
    .option('-o, --out <file>', 'where to write the log')
    .addHelpText('after', `\n${STORE_ENV}`)
    .action(async (file: string | undefined, options: { out?: string }) => {
      // Two different targets: which one was meant is not for us to guess (new-user probe 5: the file was ignored).
      if (file !== undefined && options.out !== undefined && resolve(file) !== resolve(options.out)) {
        throw new UsageError(`export was given two files, ${file} and --out ${options.out}: give one`);
      }
      exit(await runExport(storeConfig(), options.out ?? file));
    });

  program
    .command('verify')
    .description('verify an export offline (no server, no database): chain, signed heads, manifest; exit 1 when broken')
    .argument('<file>', 'the export (NDJSON)')
    .option('--manifest <file>', 'its manifest (default: FILE.manifest.json)')
    .option('--trusted-key <pem>', 'a public key (PEM file) to check the signed heads with, repeatable (default: the manifest\'s keys)', (pem: string, all: string[] | undefined) => [...(all ?? []), pem])
    .action(async (file: string, options: { manifest?: string; trustedKey?: string[] }) => exit(await runVerify(file, options.manifest, options.trustedKey ?? [])));

  program
    .command('verify-store')
    .description('verify the configured store (chain, signed heads with SIGNING_KEY_PATH and SIGNING_TRUSTED_KEYS, every evidence file it cites read back and hashed), and that it still contains a manifest\'s head')
    .option('--manifest <file>', 'an export manifest kept elsewhere (its head must still be in the log)')
    .addHelpText('after', `\n${STORE_ENV}`)
    .action(async (options: { manifest?: string }) => exit(await runVerifyStore(storeConfig(), options.manifest)));

  program
    .command('import')
    .description('import an export into an EMPTY store, reproducing every hash; each event keeps its recordedAt')
    .argument('<file>', 'the export (NDJSON), verified first')
    .option('--manifest <file>', 'its manifest (default: FILE.manifest.json)')
    .option('--trusted-key <pem>', 'the public key (PEM file) of the installation that exported it, repeatable; this installation\'s own key and SIGNING_TRUSTED_KEYS are trusted already (never the export\'s own)', (pem: string, all: string[] | undefined) => [...(all ?? []), pem])
    .addHelpText('after', `\n${STORE_ENV}`)
    .action(async (file: string, options: { manifest?: string; trustedKey?: string[] }) => exit(await runImport(storeConfig(), file, options.manifest, options.trustedKey ?? [])));

  program
    .command('backup')
    .description('copy this installation on the embedded store (event log, access log, read models, checkpoints, evidence files, keys in DATA_DIR) into a new folder, consistently, while a server may run; the copy is verified')
    .argument('[dir]', 'the same as --out')
    .option('-o, --out <dir>', 'the folder to create (it must not exist)')
    .addHelpText('after', `\n${STORE_ENV}\nRestore: stop the server, then risk-ledger restore --from DIR.`)
    .action(async (dir: string | undefined, options: { out?: string }) => {
      if (dir !== undefined && options.out !== undefined && resolve(dir) !== resolve(options.out)) {
        throw new UsageError(`backup was given two folders, ${dir} and --out ${options.out}: give one`);
      }
      exit(await runBackup(storeConfig(), options.out ?? dir));
    });

  program
    .command('restore')
    .description("put a backup folder back in this installation's places (refused while a server runs): checked against its backup.json and verified first; every file it replaces is moved aside, never deleted")
    .argument('[dir]', 'the same as --from')
    .option('-f, --from <dir>', 'the folder backup wrote')
    .addHelpText('after', `\n${STORE_ENV}\nThe replaced files go to DATA_DIR/before-restore-<time>/ (and <file>.before-restore-<time> for files outside DATA_DIR).`)
    .action(async (dir: string | undefined, options: { from?: string }) => {
      if (dir !== undefined && options.from !== undefined && resolve(dir) !== resolve(options.from)) {
        throw new UsageError(`restore was given two folders, ${dir} and --from ${options.from}: give one`);
      }
      exit(await runRestore(storeConfig(true), options.from ?? dir));
    });

  program
    .command('rebuild')
    .description('rebuild every read model from the log (refused while a server runs on DATA_DIR)')
    .addHelpText('after', `\n${STORE_ENV}`)
    .action(async () => exit(await runRebuild(storeConfig())));

  program
    .command('verify-read-models')
    .description("compare this instance's read models (READ_MODEL_PATH) with a replay of the log up to the position they have applied, row by row; exit 1 when they differ (a server may run meanwhile)")
    .addHelpText('after', `\n${STORE_ENV}`)
    .action(async () => exit(await runVerifyReadModels(storeConfig())));

  program
    .command('verify-access-log')
    .description('verify DATA_DIR/access-log.sqlite (with EVENT_STORE=postgres: the shared log and this instance\'s anchor): chain, signed heads, anchor; exit 1 when broken or missing')
    .addHelpText('after', `\n${STORE_ENV}`)
    .action(async () => exit(await runVerifyAccessLog(storeConfig())));

  return program;
}

/** The command named on the line (for the error's prefix), if any. */
function commandOf(program: Command, argv: string[]): Command | undefined {
  const first = argv.find((a) => !a.startsWith('-'));
  return program.commands.find((c) => c.name() === first);
}

/** Commander's message, on one line: "error: unknown option '--x'\n(Did you mean --out?)" -> "unknown option '--x' (Did you mean --out?)". */
function oneLine(message: string): string {
  return message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim().replace(/\.$/, '');
}

/** SQLite's own words for a file that is not (or no longer) a sound database. */
const DAMAGED = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);
/**
 * The commands for which a damaged store is a finding (exit 1, "broken"), rather than a failure to
 * run: README's "1 broken (a damaged store file too)". rebuild too (it answered 2, probe 8-b C).
 */
const VERIFYING = new Set(['verify-store', 'verify-access-log', 'verify-read-models', 'export', 'rebuild', 'backup', 'restore']);

const FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EROFS', 'ENOSPC', 'EEXIST']);

/** Maps anything a command threw to its exit status, printing one line (and, for refusals, the JSON result as before). */
function failure(error: unknown, command: Command | undefined): number {
  const prefix = command ? `${NAME} ${command.name()}` : NAME;
  const line = (text: string) => process.stderr.write(`${prefix}: ${text}\n`);
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return error.exitCode === 0 ? 0 : 2;
    line(`${oneLine(error.message)}; see ${command ? `${NAME} ${command.name()} --help` : `${NAME} --help`}`);
    return 2;
  }
  if (error instanceof UsageError || error instanceof TokenRequestError) {
    line(`${error.message}; see ${prefix} --help`);
    return 2;
  }
  // An export with a line past the longest read (export-lines.ts): verify and import refuse it.
  if (error instanceof MissingStoreError || error instanceof ExportLineTooLongError) {
    line(error instanceof ExportLineTooLongError && command?.name() === 'import' ? `${error.message}; nothing was imported` : error.message);
    return 2;
  }
  if (command?.name() === 'token' && error instanceof ConfigError) {
    // Its stdout is the token alone: one line on stderr, worded as the other commands' refusal.
    line(error instanceof UnfinishedRestoreError ? `Refused: ${error.message}` : `configuration error: ${error.message}`);
    return 2;
  }
  if (error instanceof ImportRefusedError || error instanceof ConfigError || error instanceof DataDirLockedError) {
    const what = error instanceof ConfigError ? 'configuration error' : error instanceof DataDirLockedError ? 'refused' : 'import refused';
    log.error(`${what}: ${error.message}`);
    result({ ok: false, error: error.message }, `Refused: ${error.message}`);
    return 2;
  }
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const path = (error as NodeJS.ErrnoException | null)?.path;
  if (code && FILE_ERRORS.has(code)) {
    line(`${path ? `${path}: ` : ''}${(error as Error).message.replace(/^[A-Z]+: /, '')}`);
    return 2;
  }
  if (typeof code === 'string' && DAMAGED.has(code) && command && VERIFYING.has(command.name())) {
    log.error('the store is damaged', { code, message: (error as Error).message });
    result({ command: command.name(), ok: false, error: `${code}: ${(error as Error).message}` }, `BROKEN: the store cannot be read as a database (${code}: ${(error as Error).message}).`);
    return 1;
  }
  // Unexpected: one line; the stack only for whoever asks for debug logs.
  line(`failed: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error) log.debug('command failed', { error: { name: error.name, message: error.message, stack: error.stack } });
  return 2;
}

/** Runs one command line (without `node` and the script); resolves with the exit status, never exits the process. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  const command = commandOf(program, argv);
  if (argv.length === 0) {
    process.stderr.write(`${NAME}: missing command: one of ${program.commands.map((c) => c.name()).join(', ')}; see ${NAME} --help\n`);
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    return failure(error, command);
  }
}

/** True when this file is the process's script, also through the `bin` symlink npm makes. */
function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * How long a finished command may leave the process running: a command that failed after opening
 * the store (a signing key that is a folder, an evidence folder it may not write) printed its line
 * and never exited, the store's worker and timers still open (container probe of 2026-12-06, M1:
 * a Job that never ends). Unref'd: a command that closed everything exits at once.
 */
export const EXIT_GRACE_MS = 2_000;

if (isEntryPoint()) {
  // A reader that closes early (`risk-ledger --help | head -1`) is no failure of the command: the
  // unhandled EPIPE printed a stack (race probe of 2026-12-07, F4). Other write errors: one line.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') process.stderr.write(`${NAME}: cannot write its output: ${error.message}\n`);
      process.exit(error.code === 'EPIPE' ? (process.exitCode as number | undefined) ?? 0 : 2);
    });
  }
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  });
}
