// The openid-client RP's lifecycle, tested the way a Node team would: node:test, the
// sso-harness helper (`npm install sso-harness`), a real authorization code flow through
// the app: login, a group change reaching it, a deleted user losing access, an outage.
'use strict';

const { test, before, after, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { startMockIdp } = require('sso-harness');

const APP = path.join(__dirname, '..', 'app.js');
const GROUP_MAP = { analysts: ['read'], admins: ['read', 'write'] };
const DEADLINE_MS = 5000;

let idp;
let tenant;
let app;

before(async () => { idp = await startMockIdp(); });
after(async () => { await idp.stop(); });

beforeEach(async () => {
  tenant = await idp.tenant();
  app = await startApp(tenant);
});
afterEach(async () => {
  app.child.kill('SIGTERM');
  await tenant.delete();
});

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startApp(t) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [APP], {
    env: {
      ...process.env, ISSUER: t.issuer, CLIENT_ID: t.clientId, CLIENT_SECRET: t.clientSecret,
      BASE_URL: url, PORT: String(port), SYNC_MODE: 'strict', GROUP_MAP: JSON.stringify(GROUP_MAP),
      SYNC_INTERVAL_S: '0.3', IDP_TIMEOUT_S: '2',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const end = Date.now() + 30000;
  for (;;) {
    try {
      await fetch(`${url}/me`);
      return { url, child };
    } catch (e) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`the app did not come up: ${e}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function eventually(read, want) {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    const v = await read();
    if (want(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a login shows the user and the groups permissions', async () => {
  const b = tenant.browser(app.url);
  await b.login('bob');
  const me = await b.getJson('/me');
  assert.equal(me.username, 'bob');
  assert.deepEqual(me.permissions, ['read', 'write']);
});

test('a group change at the IdP reaches the app', async () => {
  const b = tenant.browser(app.url);
  await b.login('alice');
  assert.deepEqual((await b.getJson('/me')).permissions, ['read']);
  await tenant.admin.setGroups('alice', ['admins']);
  const me = await eventually(() => b.getJson('/me'), (m) => m.permissions.length === 2);
  assert.deepEqual(me.permissions, ['read', 'write']);
  const refreshes = (await tenant.admin.journal({ user: 'alice' })).filter((e) => e.grant_type === 'refresh_token');
  assert.ok(refreshes.length > 0, 'the change came without a refresh');
});

test('a deleted user loses access', async () => {
  const b = tenant.browser(app.url);
  await b.login('alice');
  assert.equal((await b.get('/me')).status, 200);
  await tenant.admin.deleteUser('alice');
  const status = await eventually(async () => (await b.get('/me')).status, (s) => s === 401);
  assert.equal(status, 401);
});

test('an IdP outage is not a revocation', async () => {
  const b = tenant.browser(app.url);
  await b.login('alice');
  const fault = await tenant.admin.armFault('http_status', { status: 503, user: 'alice', grantType: 'refresh_token', times: 2 });
  const failed = await eventually(
    async () => (await tenant.admin.journal({ user: 'alice' })).filter((e) => e.status === 503),
    (f) => f.length >= 1,
  );
  assert.ok(failed.length >= 1, 'the app never refreshed during the outage');
  assert.equal((await b.get('/me')).status, 200, 'a 503 ended the session');
  await tenant.admin.clearFaults(fault);
  await tenant.admin.setGroups('alice', []);
  const me = await eventually(() => b.getJson('/me'), (m) => m.permissions.length === 0);
  assert.deepEqual(me.permissions, [], 'the sync did not recover after the outage');
});
