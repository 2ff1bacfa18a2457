/**
 * The Altair GraphQL IDE (altair-static), served from this server's own files: the page, its
 * options script and every asset come from /ide/, and its Content-Security-Policy names no other
 * host, so nothing is fetched from a CDN. Development only (dev-ide.controller.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { getDistDirectory, renderAltair, renderInitSnippet, type RenderOptions } from 'altair-static';

export const IDE_PATH = '/ide';
export const OPTIONS_SCRIPT = 'initial_options.js';

const ASSETS = resolve(getDistDirectory());

const FIRST_QUERY = `# Risk Ledger, development IDE. Every operation needs a bearer token:
#   npm run -s token -- --sub alice --name Alice --roles ASSET_MANAGER --department ops
# then paste it as the value of "token" in the base environment ("No environment" at the top
# right, then Environments); the Authorization header (Set Headers) and the subscription's
# connection parameters both use {{token}}. The Docs pane (introspection) needs the token too:
# reload it once the token is set.
query Assets {
  assets(first: 10) {
    totalCount
    edges { node { id name department value status } }
  }
}
`;

/** Only a host name or address and a port: it is echoed into the page and the CSP. */
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export function safeHost(header: string | undefined, fallback: string): string {
  return header && HOST.test(header) ? header : fallback;
}

function options(host: string): RenderOptions {
  return {
    baseURL: `${IDE_PATH}/`,
    endpointURL: '/graphql',
    subscriptionsEndpoint: `ws://${host}/graphql`,
    initialSubscriptionRequestHandlerId: 'graphql-ws',
    initialName: 'Risk Ledger (development)',
    initialQuery: FIRST_QUERY,
    initialHeaders: { Authorization: 'Bearer {{token}}' },
    // graphql-ws connection parameters: the server reads Authorization from them (graphql-options.ts).
    initialSubscriptionsPayload: { Authorization: 'Bearer {{token}}' },
    initialEnvironments: { base: { title: 'Risk Ledger (development)', variables: { token: '' } } },
    // No account, sync, update check or remote plugin: nothing leaves this machine.
    disableAccount: true,
    initialSettings: { 'alert.disableUpdateNotification': true, disablePushNotification: true, 'banners.disable': true, 'plugin.list': [] },
    serveInitialOptionsInSeperateRequest: OPTIONS_SCRIPT,
  };
}

export function idePage(host: string): string {
  return renderAltair(options(host));
}

export function ideOptionsScript(host: string): string {
  return renderInitSnippet(options(host));
}

/**
 * The policy of the IDE's responses (helmet's stays on every other route): scripts only from
 * here (the options are a file, not an inline script), Angular's inline styles, data: images and
 * fonts, web workers, and connections to this server over HTTP and graphql-ws. No other host.
 */
export function ideContentSecurityPolicy(host: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${host} wss://${host}`,
    "worker-src 'self' blob:",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** A file of Altair's dist folder, or null (outside it, missing, or a folder). */
export function ideAsset(relative: string): { file: string; type: string } | null {
  const file = resolve(join(ASSETS, relative));
  if (!file.startsWith(ASSETS + sep) || !existsSync(file) || !statSync(file).isFile()) return null;
  return { file, type: TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' };
}
