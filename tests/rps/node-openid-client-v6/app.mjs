// A relying party as a team would write one on openid-client 6 (the current major, on
// oauth4webapi): discovery at start-up (which validates the document's issuer), the code
// flow with PKCE, state and nonce, and a background sync that refreshes every session with
// the refresh token. The library validates every token; this glue only maps claims to an
// account, the groups to permissions, and an invalid_grant to the end of access. Plain
// http is allowed for a loopback issuer only, as in development; over --tls it is https.
import crypto from 'node:crypto';
import fs from 'node:fs';
import express from 'express';
import session from 'express-session';
import * as client from 'openid-client';

const env = process.env;
const need = (name) => {
  if (!env[name]) throw new Error(`${name} is not set`);
  return env[name];
};
const BASE_URL = need('BASE_URL').replace(/\/$/, '');
const CALLBACK = '/login/oauth2/callback';
const MODE = env.SYNC_MODE || 'strict';
const GROUP_MAP = JSON.parse(env.GROUP_MAP || '{}');
const [GROUPS_TOKEN, GROUPS_POINTER] = splitOnce(env.GROUPS_CLAIM || 'id_token:/groups', ':');
const SYNC_MS = parseFloat(env.SYNC_INTERVAL_S || '600') * 1000;
const TIMEOUT_S = parseFloat(env.IDP_TIMEOUT_S || '10');
const PAR = env.PAR === 'true';
const DPOP = env.DPOP === 'true';
// JAR=true (with private_key_jwt): each request signed as a request object (RFC 9101).
const JAR = env.JAR === 'true';

function splitOnce(s, sep) {
  const i = s.indexOf(sep);
  return [s.slice(0, i), s.slice(i + 1)];
}

// RFC 6901.
function pointer(doc, p) {
  if (p === '') return doc;
  return p.split('/').slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((v, key) => (v != null && typeof v === 'object' ? v[key] : undefined), doc);
}

function jwtPayload(jwt) {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
  } catch {
    return {};
  }
}

// The groups at the configured place: null when the claim is absent.
function groupsOf(tokens) {
  const doc = GROUPS_TOKEN === 'access_token' ? jwtPayload(tokens.access_token) : tokens.claims();
  const g = pointer(doc, GROUPS_POINTER);
  if (g == null) return null;
  return Array.isArray(g) ? g.map(String) : [String(g)];
}

const accounts = new Map(); // sub -> account
const sessions = new Map(); // session id -> { sub, tokens }
let nextId = 1;

function apply(account, claims, groups) {
  account.email = claims.email;
  account.username = claims.preferred_username;
  account.name = claims.name;
  if (MODE === 'none') return;
  const mapped = (groups || []).flatMap((g) => GROUP_MAP[g] || []);
  if (MODE === 'strict') account.permissions = new Set(mapped);
  else mapped.forEach((p) => account.permissions.add(p));
}

function revoke(sub) {
  for (const [sid, s] of sessions) if (s.sub === sub) sessions.delete(sid);
  const a = accounts.get(sub);
  if (a) a.permissions = new Set();
}

// CLIENT_AUTH: client_secret_post, or private_key_jwt with the key the runner made
// (CLIENT_KEY_FILE, CLIENT_KEY_ID), imported as a WebCrypto key for the library to sign with.
async function clientKey() {
  const key = crypto.createPrivateKey(fs.readFileSync(need('CLIENT_KEY_FILE')));
  const cryptoKey = await crypto.webcrypto.subtle.importKey(
    'pkcs8',
    key.export({ format: 'der', type: 'pkcs8' }),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return { key: cryptoKey, kid: need('CLIENT_KEY_ID') };
}
const privateKeyJwt = (env.CLIENT_AUTH || 'client_secret_post') === 'private_key_jwt';
const signingKey = privateKeyJwt ? await clientKey() : undefined;
async function clientAuth() {
  if (!privateKeyJwt) return client.ClientSecretPost(need('CLIENT_SECRET'));
  return client.PrivateKeyJwt(signingKey);
}

// The public half of the private_key_jwt key, to register (DCR).
function publicJwk() {
  const key = crypto.createPublicKey(fs.readFileSync(need('CLIENT_KEY_FILE')));
  return { ...key.export({ format: 'jwk' }), kid: need('CLIENT_KEY_ID'), alg: 'RS256', use: 'sig' };
}

const issuerUrl = new URL(need('ISSUER'));
const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuerUrl.hostname);
const options = {
  timeout: TIMEOUT_S,
  execute: issuerUrl.protocol === 'http:' && loopback ? [client.allowInsecureRequests] : [],
};
// REGISTRATION_TOKEN with no CLIENT_ID: the app registers itself (RFC 7591) with the
// library's dynamicClientRegistration, and uses the credentials it gets.
const config = !env.CLIENT_ID && env.REGISTRATION_TOKEN
  ? await client.dynamicClientRegistration(
    issuerUrl,
    {
      client_name: 'openid-client 6 app',
      redirect_uris: [BASE_URL + CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: privateKeyJwt ? 'private_key_jwt' : 'client_secret_post',
      ...(privateKeyJwt ? { jwks: { keys: [publicJwk()] } } : {}),
    },
    privateKeyJwt ? await clientAuth() : undefined,
    { ...options, initialAccessToken: env.REGISTRATION_TOKEN },
  )
  : await client.discovery(
    issuerUrl,
    need('CLIENT_ID'),
    need('CLIENT_SECRET'),
    await clientAuth(),
    options,
  );
const metadata = config.serverMetadata();
// DPOP=true: one key pair for the process; the library proves possession at every token
// request (RFC 9449), retrying with the server's nonce when it asks for one.
const dpop = DPOP ? { DPoP: client.getDPoPHandle(config, await client.randomDPoPKeyPair()) } : undefined;

const app = express();
app.use(express.json());
app.use(session({ secret: crypto.randomBytes(32).toString('hex'), resave: false, saveUninitialized: false }));

app.get('/healthz', (req, res) => res.json({ ok: true }));

app.get('/login', async (req, res) => {
  const verifier = client.randomPKCECodeVerifier();
  req.session.login = { state: client.randomState(), nonce: client.randomNonce(), verifier };
  const params = {
    redirect_uri: BASE_URL + CALLBACK,
    scope: env.SCOPES || 'openid profile email offline_access',
    state: req.session.login.state,
    nonce: req.session.login.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  // PAR=true: the request is pushed (RFC 9126) and the browser carries its request_uri.
  let url;
  try {
    if (JAR) url = await client.buildAuthorizationUrlWithJAR(config, params, signingKey);
    else if (PAR) url = await client.buildAuthorizationUrlWithPAR(config, params);
    else url = client.buildAuthorizationUrl(config, params);
  } catch (e) {
    res.status(502).json({ error: 'provider_unavailable', detail: String(e) });
    return;
  }
  res.redirect(url.href);
});

app.get(CALLBACK, async (req, res) => {
  const login = req.session.login || {};
  delete req.session.login;
  let tokens;
  try {
    tokens = await client.authorizationCodeGrant(config, new URL(req.originalUrl, BASE_URL), {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    }, undefined, dpop);
  } catch (e) {
    return res.status(401).json({ error: 'login_failed', error_description: `${e.code || e.name}: ${e.message}` });
  }
  const claims = tokens.claims();
  for (const c of ['sub', 'email', 'preferred_username']) {
    if (!claims[c]) return res.status(401).json({ error: 'login_failed', error_description: `no ${c} claim` });
  }
  if (!tokens.refresh_token) {
    return res.status(401).json({ error: 'login_failed', error_description: 'no refresh token' });
  }
  let account = accounts.get(claims.sub);
  if (!account) {
    account = { id: nextId++, sub: claims.sub, permissions: new Set() };
    accounts.set(claims.sub, account);
  }
  apply(account, claims, groupsOf(tokens));
  req.session.regenerate(() => {
    sessions.set(req.sessionID, { sub: claims.sub, tokens });
    req.session.user = claims.sub;
    res.redirect('/me');
  });
});

const current = (req) => sessions.get(req.sessionID);

app.get('/me', (req, res) => {
  const s = current(req);
  if (!s) return res.status(401).json({ error: 'not_logged_in' });
  const a = accounts.get(s.sub);
  res.json({ id: a.id, sub: a.sub, email: a.email, username: a.username, name: a.name,
    permissions: [...a.permissions].sort() });
});

// RP-initiated logout: the session ends here, then at the provider's end_session_endpoint,
// which sends the browser back to /logged-out.
app.get('/logout', (req, res) => {
  const s = current(req);
  sessions.delete(req.sessionID);
  const params = { post_logout_redirect_uri: BASE_URL + '/logged-out', state: client.randomState() };
  if (s) params.id_token_hint = s.tokens.id_token;
  const target = metadata.end_session_endpoint ? client.buildEndSessionUrl(config, params).href : '/';
  req.session.destroy(() => res.redirect(target));
});

app.get('/logged-out', (req, res) => res.json({ logged_out: true }));

app.post('/grant', (req, res) => {
  const s = current(req);
  if (!s) return res.status(401).json({ error: 'not_logged_in' });
  if (MODE === 'strict') return res.status(403).json({ error: 'permissions come from the groups' });
  accounts.get(s.sub).permissions.add(String(req.body.permission));
  res.json({ granted: req.body.permission });
});

const inFlight = new Set();
setInterval(() => {
  for (const [sid, s] of sessions) {
    if (inFlight.has(sid)) continue;
    inFlight.add(sid);
    client.refreshTokenGrant(config, s.tokens.refresh_token, undefined, dpop)
      .then((fresh) => {
        if (!sessions.has(sid)) return;
        const kept = { ...fresh, refresh_token: fresh.refresh_token || s.tokens.refresh_token };
        s.tokens = { ...kept, claims: () => fresh.claims() };
        if (fresh.id_token) apply(accounts.get(s.sub), fresh.claims(), groupsOf(s.tokens));
      })
      .catch((e) => {
        if (e instanceof client.ResponseBodyError && e.error === 'invalid_grant') revoke(s.sub);
        else console.error(`refresh for ${s.sub}: ${e.code || e.name}: ${e.message}`);
      })
      .finally(() => inFlight.delete(sid));
  }
}, SYNC_MS);

const port = parseInt(need('PORT'), 10);
app.listen(port, '127.0.0.1', () => console.log(`rp listening on ${BASE_URL}`));
