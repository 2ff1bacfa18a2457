import { describe, expect, it } from '@jest/globals';
import { graphqlOptions } from '../../../src/graphql/graphql-options.js';
import { WS_MAX_CONNECTIONS_PER_ACTOR } from '../../../src/graphql/edge-limits.js';
import type { TokenVerifier, VerifiedSession } from '../../../src/identity/token-verifier.js';

/**
 * The per-actor count of graphql-ws connections (WS_MAX_CONNECTIONS_PER_ACTOR) with a socket that
 * closes while its token is being checked: graphql-ws runs onClose for it (it was never
 * acknowledged), and onConnect goes on once the check answers. It used to count that socket then,
 * and nothing ever uncounted it: after 10 such sockets the actor was refused 4403 on every new
 * connection until a restart (soak probe H1). The hooks are driven in that order here, which the
 * probe needed ~120 connects under load to hit by chance.
 */
type Hooks = {
  onConnect(ctx: object): Promise<boolean>;
  onClose(ctx: object): void;
};

function hooks(verify: () => Promise<VerifiedSession>): Hooks {
  const verifier = { verifyAuthorizationSession: verify } as unknown as TokenVerifier;
  const ws = (graphqlOptions(verifier).subscriptions as Record<string, unknown>)['graphql-ws'] as Hooks;
  return ws;
}

const session: VerifiedSession = { actor: { id: 'dropper', name: 'Dropper', roles: ['AUDITOR'] }, expiresAt: Date.now() + 3_600_000 };
const ctx = () => ({ connectionParams: { authorization: 'Bearer t' }, extra: { socket: { close: () => undefined } }, subscriptions: {} });

describe('graphql-ws connections per actor', () => {
  it('a socket closed while its token is checked is not counted: the actor keeps its 10 connections', async () => {
    let answer: () => void = () => undefined;
    const ws = hooks(() => new Promise<VerifiedSession>((resolve) => (answer = () => resolve(session))));
    for (let i = 0; i < 3 * WS_MAX_CONNECTIONS_PER_ACTOR; i++) {
      const dropped = ctx();
      const connecting = ws.onConnect(dropped);
      ws.onClose(dropped);
      answer();
      expect(await connecting).toBe(false);
    }
    // Not locked out: ten sockets at once are admitted, the eleventh is not.
    let admitted = 0;
    for (let i = 0; i <= WS_MAX_CONNECTIONS_PER_ACTOR; i++) {
      const open = ctx();
      const connecting = ws.onConnect(open);
      answer();
      if (await connecting) admitted++;
    }
    expect(admitted).toBe(WS_MAX_CONNECTIONS_PER_ACTOR);
  });

  it('a socket that closes after it was admitted frees its place', async () => {
    const ws = hooks(async () => session);
    const open = Array.from({ length: WS_MAX_CONNECTIONS_PER_ACTOR }, ctx);
    for (const c of open) expect(await ws.onConnect(c)).toBe(true);
    expect(await ws.onConnect(ctx())).toBe(false);
    ws.onClose(open[0]!);
    expect(await ws.onConnect(ctx())).toBe(true);
    for (const c of open) ws.onClose(c);
  });
});
