import WebSocket from 'ws';

/** A raw graphql-ws socket at `wsUrl`, authenticated with `token` and acknowledged; `closed` resolves with the close code. */
export async function acknowledgedSocket(wsUrl: string, token: string): Promise<{ socket: WebSocket; closed: Promise<number> }> {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const acked = new Promise<void>((resolve, reject) => {
    socket.on('message', (m) => JSON.parse(String(m)).type === 'connection_ack' && resolve());
    void closed.then((code) => reject(new Error(`closed with ${code} before connection_ack`)));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
  await acked;
  return { socket, closed };
}

/**
 * A raw graphql-ws socket at `wsUrl` (the GraphQL endpoint's ws:// URL), authenticated with
 * `token` and acknowledged, with one live subscription `query` (id s1); `closed` resolves with the
 * close code.
 */
export async function subscribedSocket(wsUrl: string, token: string, query: string): Promise<{ socket: WebSocket; closed: Promise<number> }> {
  const { socket, closed } = await acknowledgedSocket(wsUrl, token);
  socket.send(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query } }));
  return { socket, closed };
}

/** One query or mutation over a graphql-ws socket of its own: the payload of its `next` message (data, errors, extensions). */
export async function wsOperation(wsUrl: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const { socket, closed } = await acknowledgedSocket(wsUrl, token);
  try {
    const payload = new Promise<unknown>((resolve, reject) => {
      socket.on('message', (m) => {
        const message = JSON.parse(String(m));
        if (message.id !== 'op' || message.type === 'complete') return;
        if (message.type === 'next') resolve(message.payload);
        else reject(new Error(`graphql-ws ${message.type}: ${JSON.stringify(message.payload)}`));
      });
      void closed.then((code) => reject(new Error(`closed with ${code} before an answer`)));
    });
    socket.send(JSON.stringify({ id: 'op', type: 'subscribe', payload: { query, variables } }));
    return await payload;
  } finally {
    socket.close();
  }
}
