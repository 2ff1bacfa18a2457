/**
 * The anchor of verify-store and export: a head recorded earlier that the log must still contain.
 * A log cut at a commit boundary (its newest commits deleted with their signatures), or an older
 * copy put back, is a valid signed log: only a head recorded before shows what is missing. With
 * --manifest it is the manifest's head; without, the head the server verified and recorded in
 * DATA_DIR/integrity-state.json, the one the server itself checks at every start (auditor probe
 * 10-b M2: the CLI said OK where the server on the same DATA_DIR said BROKEN).
 */
import type { AppConfig } from '../config/app-config.js';
import type { LogAnchor } from '../event-store/anchored-verification.js';
import { integrityStatePath, readVerifiedState } from '../platform/integrity-state.js';

export interface StoreAnchor {
  /** What the log must still contain (null: nothing to check it against). */
  anchor: LogAnchor | null;
  /** For the JSON result: which anchor was used. */
  used: { source: 'manifest' | 'server-record'; file: string; position: string | null; chainHash: string | null } | null;
  /** Why the server's record was not used (unreadable, verified on another store), or why there is no anchor. */
  note: string | null;
  /** The anchor in words, for the sentence ("the manifest's head …"). */
  words: string | null;
}

const WITH_MANIFEST = "verify-store --manifest with an export's manifest kept elsewhere shows it";

export function manifestAnchor(file: string, manifest: LogAnchor): StoreAnchor {
  return {
    anchor: manifest,
    used: { source: 'manifest', file, position: manifest.headPosition, chainHash: manifest.headChainHash },
    note: null,
    words: `the manifest's head ${manifest.headPosition ?? '(none)'}`,
  };
}

/**
 * The head the server verified on this store (DATA_DIR), when its record is readable and was made
 * on this kind of store (or does not say). Read before the log's head: a server running meanwhile
 * records only heads its log holds.
 */
export function serverRecordAnchor(config: AppConfig, adapterName: string): StoreAnchor {
  const path = integrityStatePath(config);
  const recorded = readVerifiedState(path);
  const none = (note: string | null): StoreAnchor => ({ anchor: null, used: null, note, words: null });
  if (recorded.kind === 'none') {
    return none(`no anchor: no server has recorded a verified head${path ? ` in ${path}` : ''}, so the newest commits deleted would not show (${WITH_MANIFEST})`);
  }
  if (recorded.kind === 'unreadable') {
    return none(`the server's record of its verified head ${recorded.path} is unreadable: not used as an anchor, so the newest commits deleted would not show (${WITH_MANIFEST})`);
  }
  if (recorded.adapter !== null && recorded.adapter !== adapterName) {
    return none(
      `the server's record ${recorded.path} was verified on the ${recorded.adapter} store, this is the ${adapterName} store: not used as an anchor (check EVENT_STORE, DATABASE_URL and SQLITE_PATH; ${WITH_MANIFEST})`,
    );
  }
  const { position, chainHash } = recorded.head;
  return {
    anchor: { headPosition: position, headChainHash: chainHash },
    used: { source: 'server-record', file: recorded.path, position, chainHash },
    note: null,
    words: `the head ${position} that the server verified, recorded in ${recorded.path}`,
  };
}
