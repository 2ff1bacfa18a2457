/**
 * Prints a signed bearer token for development and tests:
 *   npm run token -- --sub alice --roles ASSET_MANAGER --department ops [--name "Alice"] [--expires 8h]
 * Signs with JWT_SECRET, or with the development secret kept in the data folder (the same one
 * the server uses when JWT_SECRET is not set).
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { loadConfig } from '../../config/app-config.js';
import { ROLES } from '../../shared/domain/decider.js';
import { resolveJwtSecret } from '../dev-secret.js';

export async function signToken(
  secret: string,
  claims: { sub: string; name?: string; roles: string[]; department?: string },
  options: { expiresIn?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ name: claims.name ?? claims.sub, roles: claims.roles, ...(claims.department ? { department: claims.department } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    // Always set: the server refuses tokens without `exp`.
    .setExpirationTime(options.expiresIn ?? '8h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      name: { type: 'string' },
      roles: { type: 'string', default: '' },
      department: { type: 'string' },
      expires: { type: 'string', default: '8h' },
    },
  });
  if (!values.sub) {
    process.stderr.write(`usage: npm run token -- --sub USER --roles ROLE[,ROLE] [--department D] [--name NAME] [--expires 8h]\nroles: ${ROLES.join(', ')}\n`);
    process.exit(2);
  }
  const roles = (values.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length) {
    process.stderr.write(`unknown role(s): ${unknown.join(', ')}; roles are ${ROLES.join(', ')}\n`);
    process.exit(2);
  }
  const config = loadConfig();
  const { secret } = resolveJwtSecret(config);
  if (!secret) {
    process.stderr.write('No JWT_SECRET and NODE_ENV=production: cannot sign a token\n');
    process.exit(2);
  }
  const token = await signToken(secret, { sub: values.sub, name: values.name, roles, department: values.department }, {
    expiresIn: values.expires,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
  process.stdout.write(token + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
}
