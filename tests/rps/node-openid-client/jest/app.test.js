// The same app under jest: the helper required as CommonJS, a tenant per test.
'use strict';

const { startMockIdp } = require('sso-harness');
const { startApp, eventually } = require('../harness');

let idp;
let tenant;
let app;

beforeAll(async () => { idp = await startMockIdp(); }, 30000);
afterAll(async () => { await idp.stop(); });
beforeEach(async () => {
  tenant = await idp.tenant();
  app = await startApp(tenant);
}, 30000);
afterEach(async () => {
  app.stop();
  await tenant.delete();
});

test('a deleted user loses access', async () => {
  const b = tenant.browser(app.url);
  await b.login('alice');
  expect((await b.get('/me')).status).toBe(200);
  await tenant.admin.deleteUser('alice');
  const status = await eventually(async () => (await b.get('/me')).status, (s) => s === 401);
  expect(status).toBe(401);
}, 20000);
