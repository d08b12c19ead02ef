// A real OpenID Provider for the tests of the OIDC lane (modules/oidc): node oidc-provider
// (scripts/tools/node-idp, installed by `scripts/tools.sh node-idp`) on 127.0.0.1, configured
// from a JSON file. The Go harness is modules/oidc/op_test.go.
//
//   node scripts/oidc-provider/op.mjs CONFIG.json
//
// oidc-provider and jose resolve from $NODE_IDP_DIR/node_modules (else from the dir that
// `bash scripts/tools.sh node-idp-dir` prints): ESM ignores NODE_PATH.
//
// CONFIG (every field optional but jwks_file and clients):
//   port          0 picks a free port (the ready line says which one)
//   issuer_path   e.g. "/realms/test": the issuer is http://127.0.0.1:PORT/realms/test, as a
//                 Keycloak realm's, and every endpoint lives under it
//   jwks_file     a JWKS holding PRIVATE keys. Every key is published at jwks_uri; the first key
//                 of an alg signs the id_tokens of the clients that ask for that alg (so a
//                 rotation puts the new key first and keeps the old one published)
//   clients       oidc-provider client metadata: client_id, client_secret,
//                 redirect_uris, token_endpoint_auth_method (none | client_secret_basic),
//                 id_token_signed_response_alg (RS256 | ES256 ...); code flow only
//   extra_claims  claim names beyond the standard email/phone/profile ones that accounts may
//                 carry (released in the id_token under the scope "extra")
//   id_token_ttl  seconds (default 3600)
//   exit_with_stdin  true: exit when stdin closes, so that a test binary killed mid-run (go
//                 test's timeout) leaves no provider behind; its harness holds the pipe open
//
// Accounts: any login name is an account, its subject. Its claims are those last registered
// with POST /__accounts {"sub": ..., "claims": {...}} (any JSON values, so "email_verified":
// "true" mimics Apple); an account nobody registered has only its sub. Logins go through the
// dev interactions (login form, then consent form), and the id_token carries the account's claims
// of the requested scopes (conformIdTokenClaims off, as most providers do).
//
// Test-only endpoints, outside the provider: GET /__stats answers
// {"jwks": N, "discovery": N}, the requests this process served at jwks_uri and at the discovery
// document (counted on arrival, so a client that got its answer is counted), and
// POST /__accounts registers an account's claims.
//
// Once listening it prints one line on stdout:
//   {"ready":true,"issuer":"http://127.0.0.1:PORT...","port":PORT}
// It exits on SIGTERM/SIGINT (state is in memory: sessions and codes die with the process).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';

const fail = (msg) => {
  console.error(`op.mjs: ${msg}`);
  process.exit(1);
};

const configFile = process.argv[2] || fail('usage: node op.mjs CONFIG.json');
const cfg = JSON.parse(readFileSync(configFile, 'utf8'));
if (!cfg.jwks_file) fail('config: jwks_file is required');
if (!Array.isArray(cfg.clients) || cfg.clients.length === 0) fail('config: clients is required');

function nodeIdpDir() {
  if (process.env.NODE_IDP_DIR) return process.env.NODE_IDP_DIR;
  const tools = join(dirname(fileURLToPath(import.meta.url)), '..', 'tools.sh');
  return execFileSync('bash', [tools, 'node-idp-dir'], { encoding: 'utf8' }).trim();
}
const require = createRequire(`${nodeIdpDir()}/`);
const { default: Provider } = await import(pathToFileURL(require.resolve('oidc-provider')).href);

const jwks = JSON.parse(readFileSync(cfg.jwks_file, 'utf8'));
const prefix = (cfg.issuer_path || '').replace(/\/+$/, '');
const accounts = new Map();
const stats = { jwks: 0, discovery: 0 };

const standardClaims = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'picture', 'locale'],
};
const claims = { ...standardClaims };
if (Array.isArray(cfg.extra_claims) && cfg.extra_claims.length) claims.extra = cfg.extra_claims;

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJSON(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

// Test-only endpoints; true when the request was one of them.
async function testEndpoint(req, res) {
  const path = req.url.split('?')[0];
  if (path === '/__stats' && req.method === 'GET') {
    json(res, 200, stats);
    return true;
  }
  if (path === '/__accounts' && req.method === 'POST') {
    try {
      const { sub, claims: c } = await readJSON(req);
      if (typeof sub !== 'string' || !sub) throw new Error('sub must be a non-empty string');
      accounts.set(sub, c && typeof c === 'object' ? c : {});
      json(res, 200, { sub });
    } catch (e) {
      json(res, 400, { error: String(e.message || e) });
    }
    return true;
  }
  return false;
}

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(cfg.port || 0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}${prefix}`;

const provider = new Provider(issuer, {
  jwks,
  clients: cfg.clients.map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: c.client_secret ? 'client_secret_basic' : 'none',
    ...c,
  })),
  claims,
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { ...(accounts.get(sub) || {}), sub };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  ttl: { IdToken: cfg.id_token_ttl || 3600 },
});

const handle = provider.callback();
server.on('request', async (req, res) => {
  if (await testEndpoint(req, res)) return;
  const url = req.url;
  if (prefix) {
    // Mounted under the issuer's path, as koa-mount or express would: oidc-provider reads
    // the mount path from originalUrl.
    if (url !== prefix && !url.startsWith(`${prefix}/`) && !url.startsWith(`${prefix}?`)) {
      json(res, 404, { error: 'not_found' });
      return;
    }
    req.originalUrl = url;
    req.url = url.slice(prefix.length) || '/';
    if (req.url.startsWith('?')) req.url = `/${req.url}`;
  }
  const path = req.url.split('?')[0];
  if (path === '/jwks') stats.jwks += 1;
  if (path === '/.well-known/openid-configuration') stats.discovery += 1;
  handle(req, res);
});

// In-memory state only: nothing to flush, and keep-alive connections must not delay the exit.
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (cfg.exit_with_stdin) {
  process.stdin.on('end', stop).on('error', stop).resume();
}

console.log(JSON.stringify({ ready: true, issuer, port }));
