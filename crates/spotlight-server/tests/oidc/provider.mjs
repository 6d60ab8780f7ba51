// A real OpenID provider for the server's SSO tests: the npm package
// oidc-provider (OpenID Certified), on a random loopback port, with
//  - its sign-in step answered by whoever the test names (POST /control
//    {"next_user": sub}), and its users' claims set by the test
//    ({"users": {sub: {email, email_verified, groups}}});
//  - a token endpoint the test can make misbehave the ways a relying party
//    must refuse ({"tamper": "wrong_nonce" | "expired" | "other_audience" |
//    "other_issuer" | "other_key" | "alg_none"}): the ID token it issued is
//    rewritten before it leaves, signed with the provider's own key except
//    where the case is about the key.
// Prints {"issuer": …} on its first line once listening.
// CLAIMS_IN_ID_TOKEN=1: the claims of the scopes go into the ID token too.
// Usage: node provider.mjs <redirect_uri> [client_id] [client_secret]

import Provider from 'oidc-provider';
import * as jose from 'jose';

const [redirectUri, clientId = 'spotlight', clientSecret = 'spotlight-test-client-secret'] =
  process.argv.slice(2);
if (!redirectUri) {
  console.error('usage: node provider.mjs <redirect_uri> [client_id] [client_secret]');
  process.exit(2);
}

const KID = 'test-key-1';
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' };

const control = { nextUser: null, users: {}, tamper: null };

// The port must be known before the provider is made (its issuer names it),
// so listen first with a placeholder handler, then hand requests over.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const http = await import('node:http');
const server = http.createServer((req, res) => handler(req, res));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingJwk] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  // By default, as the specification has it, the claims of the requested
  // scopes are served by the userinfo endpoint, not put into the ID token;
  // CLAIMS_IN_ID_TOKEN=1 puts them there, as many providers set up for SSO do.
  conformIdTokenClaims: process.env.CLAIMS_IN_ID_TOKEN !== '1',
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['spotlight-test-provider-cookie-key'] },
  async findAccount(_ctx, sub) {
    const user = control.users[sub];
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, name: user.name ?? sub, ...user };
      },
    };
  },
  // Every client is trusted with every scope: no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

function b64(json) {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

async function sign(payload, key = privateKey, kid = KID) {
  return new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}

async function tamper(idToken, how) {
  const payload = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  switch (how) {
    case 'wrong_nonce':
      return sign({ ...payload, nonce: 'not-the-nonce-that-was-sent' });
    case 'expired':
      return sign({ ...payload, iat: now - 7200, exp: now - 3600 });
    case 'other_audience':
      return sign({ ...payload, aud: 'another-client', azp: 'another-client' });
    case 'other_issuer':
      return sign({ ...payload, iss: 'https://elsewhere.example' });
    case 'other_key': {
      // Same kid, different key: only the signature can tell.
      const other = await jose.generateKeyPair('RS256');
      return sign(payload, other.privateKey);
    }
    case 'alg_none':
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    default:
      throw new Error(`unknown tamper ${how}`);
  }
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/control' && ctx.method === 'POST') {
    const chunks = [];
    for await (const c of ctx.req) chunks.push(c);
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    if ('next_user' in body) control.nextUser = body.next_user;
    if ('tamper' in body) control.tamper = body.tamper;
    if (body.users) Object.assign(control.users, body.users);
    ctx.body = { ok: true };
    return;
  }
  if (ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name !== 'login' || !control.nextUser) {
      ctx.status = 400;
      ctx.body = { error: `no test user for the ${details.prompt.name} prompt` };
      return;
    }
    const to = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId: control.nextUser } },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(to);
    return;
  }
  await next();
  if (ctx.path === '/token' && control.tamper && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, control.tamper) };
  }
});

provider.on('server_error', (_ctx, err) => console.error('server_error', err));
handler = provider.callback();
console.log(JSON.stringify({ issuer }));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
