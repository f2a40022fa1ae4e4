// The same app under vitest: the helper imported as an ES module, a tenant per test.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { startMockIdp } from 'sso-harness';
import harness from '../harness.js';

const { startApp, eventually } = harness;
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

test('a group change at the IdP reaches the app', async () => {
  const b = tenant.browser(app.url);
  await b.login('alice');
  expect((await b.getJson('/me')).permissions).toEqual(['read']);
  await tenant.admin.setGroups('alice', ['admins']);
  const me = await eventually(() => b.getJson('/me'), (m) => m.permissions.length === 2);
  expect(me.permissions).toEqual(['read', 'write']);
  const journal = await tenant.admin.journal({ user: 'alice' });
  expect(journal.some((e) => e.grant_type === 'refresh_token')).toBe(true);
}, 20000);
