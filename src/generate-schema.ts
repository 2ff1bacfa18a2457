/**
 * Writes schema.gql from the code (npm run schema). The schema is built by the running
 * application's GraphQL module, on the in-memory store, so the file is exactly what clients see.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printSchema } from 'graphql';
import { GraphQLSchemaHost } from '@nestjs/graphql';

export async function currentSchemaText(): Promise<string> {
  process.env.EVENT_STORE = 'memory';
  process.env.DATA_DIR ??= mkdtempSync(join(tmpdir(), 'risk-ledger-schema-'));
  process.env.LOG_LEVEL = 'silent';
  const { createApp } = await import('./server.js');
  const app = await createApp();
  await app.init();
  try {
    return printSchema(app.get(GraphQLSchemaHost).schema) + '\n';
  } finally {
    await app.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await currentSchemaText();
  writeFileSync('schema.gql', text);
  process.stdout.write(`schema.gql written (${text.split('\n').length} lines)\n`);
}
