/**
 * The README's walkthrough cannot rot: examples/walkthrough.mjs (the whole Chapter 4 process, one
 * token per role, tokens issued by the built CLI) runs against a real server process, while
 * examples/subscribe.mjs (graphql-ws, the token in the connection parameters) listens for the
 * plan coming into force.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

const ROOT = process.cwd();
const SECRET = 'walkthrough-test-secret-0123456789abcdef-0123';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(script: string, env: Record<string, string>, args: string[] = []): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

describe('examples/walkthrough.mjs against a real server', () => {
  let server: ServerProcess;
  let dir: string;
  let base: string;
  // Whoever issues tokens signs with the server's key: the same JWT_SECRET (or DATA_DIR).
  const keys = () => ({ JWT_SECRET: SECRET, DATA_DIR: dir, EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite') });

  beforeAll(async () => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-walkthrough-'));
    server = await startServer(keys());
    base = server.url.replace(/\/graphql$/, '');
  }, 240_000);
  afterAll(async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks the whole process with one token per role and ends with the plan in force and the risk accepted and reviewed; a subscriber sees it', async () => {
    const auditorToken = await signToken(SECRET, { sub: 'audrey', roles: ['AUDITOR'] });
    const subscriber = node('examples/subscribe.mjs', { RISK_LEDGER_URL: base, TOKEN: auditorToken, MAX_EVENTS: '1' }, ['PlanCameIntoForce']);
    // The subscription is open before the walk starts.
    await new Promise<void>((resolve, reject) => {
      const onData = (c: Buffer) => c.toString().includes('subscribed') && resolve();
      subscriber.child.stdout!.on('data', onData);
      void subscriber.done.then((r) => reject(new Error(`subscriber ended early: ${JSON.stringify(r)}`)));
    });

    const walk = await node('examples/walkthrough.mjs', { RISK_LEDGER_URL: base, ...keys() }).done;
    expect({ code: walk.code, stderr: walk.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = walk.stdout.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!);
    expect(summary).toMatchObject({
      criteria: { status: 'IN_FORCE' },
      risk: { status: 'ACCEPTED', level: 'HIGH', reviews: 1 },
      plan: { status: 'IN_FORCE', consent: ['ACCEPTED'] },
    });
    // Each step by the person of its role: the risk's history names them.
    expect(summary.history).toEqual([
      'RiskIdentified:owen',
      'RiskAnalysed:owen',
      'RiskEvaluated:carol',
      'RiskTreatmentDecided:carol',
      'ControlsDecided:carol',
      'RiskIncludedInPlan:carol',
      'RiskSubmittedToBoard:carol',
      'RiskAwaitingResidualConsent:system:process-manager',
      'ResidualRiskAcceptedByOwner:owen',
      'ControlProgressRecorded:alice',
      'ControlProgressRecorded:alice',
      'RiskReviewed:owen',
    ]);
    // The steps the README shows, in order.
    expect(lines.slice(0, -1).map((l) => l.split(' ')[1])).toEqual(['Carol', 'Dave', 'Alice', 'Alice', 'Owen', 'Owen', 'Carol', 'Carol', 'Carol', 'Carol', 'Carol', 'Bella', 'Owen', 'Alice', 'Owen', 'Audrey']);

    // The server agrees, read independently by an auditor.
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${auditorToken}` },
      body: JSON.stringify({ query: 'query($id: ID!, $r: ID!) { plan(id: $id) { status resolution { decision } } risk(id: $r) { status ownerId } }', variables: { id: summary.plan.id, r: summary.risk.id } }),
    });
    expect(await response.json()).toEqual({ data: { plan: { status: 'IN_FORCE', resolution: { decision: 'APPROVED' } }, risk: { status: 'ACCEPTED', ownerId: 'owen' } } });

    const heard = await subscriber.done;
    expect({ code: heard.code, stderr: heard.stderr }).toEqual({ code: 0, stderr: '' });
    const event = JSON.parse(heard.stdout.trim().split('\n').pop()!);
    expect(event).toMatchObject({ type: 'PlanCameIntoForce', streamId: `plan-${summary.plan.id}` });
  }, 180_000);
});
