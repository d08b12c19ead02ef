// Smoke test of the node-idp install, run by `scripts/tools.sh node-idp` from the install dir
// (so that `oidc-provider` and `jose` resolve from its node_modules/): an OpenID Provider on
// 127.0.0.1 (random port) with a key made by jose serves its discovery document and JWKS and
// issues a client_credentials access token; its JWKS verifies a JWT signed with that key.
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const fail = (msg) => {
  console.error(`node-idp smoke: ${msg}`);
  process.exit(1);
};
setTimeout(() => fail('timed out after 30s'), 30_000).unref();

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'smoke', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  clients: [{
    client_id: 'smoke',
    client_secret: 'smoke-secret-smoke-secret-smoke-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  }],
  ttl: { ClientCredentials: 60 },
  cookies: { keys: ['smoke-cookie-key-smoke-cookie-key'] },
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
});
server.on('request', provider.callback());

try {
  const disco = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  if (disco.issuer !== issuer) fail(`discovery issuer ${disco.issuer}, want ${issuer}`);

  const res = await fetch(disco.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('smoke:smoke-secret-smoke-secret-smoke-secret').toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  const token = await res.json();
  if (res.status !== 200 || !token.access_token) fail(`token endpoint: ${res.status} ${JSON.stringify(token)}`);

  const jwt = await new jose.SignJWT({ smoke: true })
    .setProtectedHeader({ alg: 'RS256', kid: 'smoke' })
    .setIssuer(issuer)
    .setExpirationTime('1m')
    .sign(privateKey);
  const { payload } = await jose.jwtVerify(jwt, jose.createRemoteJWKSet(new URL(disco.jwks_uri)), { issuer });
  if (payload.smoke !== true) fail('JWT verified against the JWKS lost its claim');
  console.error(`node-idp smoke: OpenID Provider at ${issuer}: discovery, JWKS and client_credentials ok`);
} finally {
  server.close();
}
process.exit(0);
