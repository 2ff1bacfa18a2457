import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TestApp } from './support/test-app.js';

/** RS256 tokens checked against a JWKS endpoint (a real HTTP server on loopback), with issuer and audience. */
describe('identity through JWT_JWKS_URL', () => {
  let jwks: Server;
  let t: TestApp;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    const { port } = jwks.address() as { port: number };
    process.env.JWT_JWKS_URL = `http://127.0.0.1:${port}/jwks.json`;
    process.env.JWT_ISSUER = 'https://idp.example';
    process.env.JWT_AUDIENCE = 'risk-ledger';
    t = await TestApp.start({ store: 'memory' });
  });
  afterAll(async () => {
    await t.close();
    delete process.env.JWT_JWKS_URL;
    delete process.env.JWT_ISSUER;
    delete process.env.JWT_AUDIENCE;
    await new Promise((r) => jwks.close(r));
  });

  const sign = (claims: Record<string, unknown>, issuer = 'https://idp.example', audience = 'risk-ledger') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('dana').setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('5m').sign(privateKey);

  it('accepts a token signed by the identity provider and takes the actor from its claims', async () => {
    const token = await sign({ name: 'Dana', roles: ['CISO'], department: 'security' });
    expect((await t.ok(`{ me { id name roles department } }`, {}, token)).me).toEqual({ id: 'dana', name: 'Dana', roles: ['CISO'], department: 'security' });
  });

  it('refuses a wrong issuer or audience, and roles that are not a list', async () => {
    for (const token of [await sign({ roles: ['CISO'] }, 'https://evil.example'), await sign({ roles: ['CISO'] }, undefined, 'other-app'), await sign({ roles: 'CISO' })]) {
      const r = await t.gql(`{ me { id } }`, {}, token);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });
});
