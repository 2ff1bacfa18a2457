import { main as cliMain } from '../../../src/cli/main.js';

/**
 * The CLI run in this process with `env` set only for the run (and DATABASE_URL unset unless
 * given): its exit code and the lines it printed on stdout (a JSON line, then a sentence).
 */
export async function cliInProcess(args: string[], env: Record<string, string>): Promise<{ code: number; json: any; sentence: string }> {
  const saved = { ...process.env };
  delete process.env.DATABASE_URL;
  Object.assign(process.env, env);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  let code: number;
  try {
    code = await cliMain(args);
  } finally {
    process.stdout.write = write;
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  const [first, second] = out.split('\n');
  return { code, json: JSON.parse(first!), sentence: second ?? '' };
}
