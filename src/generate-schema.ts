/**
 * Writes schema.gql from the code (npm run schema). The schema is built by the running
 * application's GraphQL module, on the in-memory store, so the file is exactly what clients see.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printSchema } from 'graphql';
import { GraphQLSchemaHost } from '@nestjs/graphql';

export async function currentSchemaText(): Promise<string> {
  process.env.EVENT_STORE = 'memory';
  // The development key the start makes goes to a folder of its own, removed after (one was left under the system's tmp at every run).
  const made = process.env.DATA_DIR === undefined ? mkdtempSync(join(tmpdir(), 'risk-ledger-schema-')) : null;
  if (made) process.env.DATA_DIR = made;
  process.env.LOG_LEVEL = 'silent';
  try {
    const { createApp } = await import('./server.js');
    const app = await createApp();
    await app.init();
    try {
      return printSchema(app.get(GraphQLSchemaHost).schema) + '\n';
    } finally {
      await app.close();
    }
  } finally {
    if (made) {
      rmSync(made, { recursive: true, force: true });
      delete process.env.DATA_DIR;
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await currentSchemaText();
  writeFileSync('schema.gql', text);
  process.stdout.write(`schema.gql written (${text.split('\n').length} lines)\n`);
}
