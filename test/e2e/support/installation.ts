/**
 * An installation on the embedded store as the backup and restore tests drive it: its settings
 * (one DATA_DIR, the log in it), the CLI run against them, and a first mutation over GraphQL.
 */
import { join } from 'node:path';
import { cliProcess } from './cli-process.js';

export const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;

/** registerAsset's variables for an asset of department ops named `name` (names are unique). */
export const asset = (name: string) => ({ i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });

export async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return response.json();
}

/** The settings of an installation whose DATA_DIR is `dir`, tokens signed with `secret`. */
export const installationSettings = (dir: string, secret: string) => ({ EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: secret, NODE_ENV: 'test' });

/** The CLI in a process of its own, its logs quiet. */
export const cli = (args: string[], env: Record<string, string>) => cliProcess(args, { LOG_LEVEL: 'error', ...env });
