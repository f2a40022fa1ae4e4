// The openid-client RP's lifecycle, tested the way a Node team would: node:test, the
// sso-harness helper (`npm install sso-harness`), a real authorization code flow through
// the app: login, a group change reaching it, a deleted user losing access, an outage.
'use strict';

const { test, before, after, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { startMockIdp } = require('sso-harness');
const { startApp, eventually } = require('../harness');

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
  app.stop();
  await tenant.delete();
});

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
