#!/usr/bin/env node
// Committed events, live, over graphql-ws: the token goes in the connection parameters
// ({ Authorization: 'Bearer <JWT>' }), which the server checks when the socket opens; the socket
// closes with code 4401 when the token expires. Run from this repository (graphql-ws and ws are
// among its dependencies):
//
//   TOKEN=$(npm run -s token -- --sub audrey --roles AUDITOR) node examples/subscribe.mjs [TYPE ...]
//
//   RISK_LEDGER_URL   the server (default http://localhost:3000)
//   TOKEN             any role's bearer token
//   MAX_EVENTS        stop after this many events (default: run until interrupted)
// Prints one JSON line per event; the line `subscribed` once the socket is open.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = (process.env.RISK_LEDGER_URL ?? 'http://localhost:3000').replace(/\/$/, '').replace(/^http/, 'ws') + '/graphql';
const token = process.env.TOKEN;
if (!token) {
  process.stderr.write('TOKEN is required, e.g. TOKEN=$(npm run -s token -- --sub audrey --roles AUDITOR)\n');
  process.exit(2);
}
const types = process.argv.slice(2);
const max = Number(process.env.MAX_EVENTS ?? Infinity);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: { connected: () => process.stdout.write('subscribed\n') },
});

let seen = 0;
const stop = client.subscribe(
  {
    query: `subscription($types: [String!]) { eventAppended(types: $types) { position type streamId metadata { actor { id } } } }`,
    variables: { types: types.length ? types : null },
  },
  {
    next: ({ data, errors }) => {
      if (errors?.length) return process.stderr.write(`${JSON.stringify(errors[0])}\n`);
      process.stdout.write(JSON.stringify(data.eventAppended) + '\n');
      if (++seen >= max) {
        stop();
        void client.dispose();
      }
    },
    error: (error) => {
      // A refused token closes the socket with 4401 (or 4403).
      process.stderr.write(`subscription ended: ${error?.reason ?? error?.message ?? JSON.stringify(error)} ${error?.code ?? ''}\n`);
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
