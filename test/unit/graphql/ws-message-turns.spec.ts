/**
 * The messages of every graphql-ws socket are handled one per turn of the event loop across all
 * sockets (ws-hardening.ts hardenSocket): one per socket and turn let 50 sockets of 20 resuming
 * subscriptions each be parsed, checked and started in one go, and /health/live waited ~0.2 s
 * (probe 8b). A connection_init first in line is handled at once (graphql-ws closes a socket whose
 * init it has not handled within 3 s).
 */
import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { AwaitingInit, hardenSocket, type WsSocket } from '../../../src/graphql/ws-hardening.js';
import { turnCounter } from '../../support/turns.js';

function fakeSocket(onMessage: (text: string) => void): WsSocket & EventEmitter {
  const socket = Object.assign(new EventEmitter(), {
    readyState: 1,
    bufferedAmount: 0,
    send: () => undefined,
    close: () => undefined,
    terminate: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
  });
  socket.on('message', (data: unknown) => onMessage(String(data)));
  return socket as unknown as WsSocket & EventEmitter;
}

const request = { socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
const subscribe = (id: number) => JSON.stringify({ id: String(id), type: 'subscribe', payload: { query: 'subscription { eventAppended { position } }' } });

describe('graphql-ws messages: one per turn of the event loop across every socket', () => {
  it('handles one message per turn whatever the number of sockets, each socket in its order', async () => {
    const turns = turnCounter();
    const handled: { socket: number; id: string; turn: number }[] = [];
    const awaiting = new AwaitingInit();
    const sockets = Array.from({ length: 10 }, (_, s) => {
      const socket = fakeSocket((text) => handled.push({ socket: s, id: (JSON.parse(text) as { id: string }).id, turn: turns.turn }));
      hardenSocket(socket, awaiting, request);
      return socket;
    });
    // Every socket's three messages arrive in the same turn (one read each).
    for (const socket of sockets) for (let id = 0; id < 3; id++) socket.emit('message', Buffer.from(subscribe(id)), false);
    while (handled.length < 30) await new Promise((resolve) => setImmediate(resolve));
    turns.stop();
    const perTurn = new Map<number, number>();
    for (const h of handled) perTurn.set(h.turn, (perTurn.get(h.turn) ?? 0) + 1);
    // One per socket and turn handled ten in the first turn.
    expect(Math.max(...perTurn.values())).toBe(1);
    for (let s = 0; s < 10; s++) expect(handled.filter((h) => h.socket === s).map((h) => h.id)).toEqual(['0', '1', '2']);
  });

  it('handles a connection_init first in line at once, and what follows it in turn', async () => {
    const handled: string[] = [];
    const socket = fakeSocket((text) => handled.push((JSON.parse(text) as { type: string }).type));
    hardenSocket(socket, new AwaitingInit(), request);
    socket.emit('message', Buffer.from(JSON.stringify({ type: 'connection_init', payload: {} })), false);
    expect(handled).toEqual(['connection_init']);
    socket.emit('message', Buffer.from(subscribe(1)), false);
    expect(handled).toEqual(['connection_init']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(handled).toEqual(['connection_init', 'subscribe']);
  });
});
