// Drives Debian's chromium (headless, through playwright-core) over the pages people look
// at, with JavaScript off, as the pages promise to work without it: mock-idp's login page
// (the request shown, a user picked, the redirect back; a form_post response posted by its
// button, and by its script where scripts run), its device verification page, its token
// inspector (a real token
// pasted and decoded, a bad one refused), its users and live journal, and the preflight and
// conformance HTML reports (links followed). Each page also gets an accessibility smoke
// check (lang, one h1, no skipped heading level, labelled fields, captioned tables, named
// links and buttons, WCAG AA text contrast) in a second context with scripts on, to
// measure. Screenshots go to the out folder.
//
// Usage: node pages.mjs '<json>' with chromium, authorizeUrl, callbackPrefix, debugUrl,
// idToken, deviceUrl, userCode, preflightHtml, reportHtml, exploreHtml, out.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const cfg = JSON.parse(process.argv[2]);
mkdirSync(cfg.out, { recursive: true });
const done = [];
function check(ok, what) {
  if (!ok) throw new Error(`failed: ${what}`);
  done.push(what);
}

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const viewport = { width: 1100, height: 900 };
const noJs = await browser.newContext({ javaScriptEnabled: false, viewport });
const withJs = await browser.newContext({ viewport });

// The accessibility smoke check, run inside a page.
function audit() {
  const problems = [];
  const html = document.documentElement;
  if (!html.lang) problems.push('no lang on <html>');
  if (!document.title.trim()) problems.push('no <title>');
  if (!document.querySelector('main')) problems.push('no <main> landmark');
  const h1s = document.querySelectorAll('h1');
  if (h1s.length !== 1) problems.push(`${h1s.length} h1 elements`);
  let last = 0;
  for (const h of document.querySelectorAll('h1,h2,h3,h4,h5,h6')) {
    const level = Number(h.tagName[1]);
    if (last && level > last + 1) problems.push(`heading level skipped: h${last} then ${h.tagName} "${h.textContent.trim().slice(0, 40)}"`);
    last = level;
  }
  for (const el of document.querySelectorAll('input,textarea,select')) {
    if (el.type === 'hidden') continue;
    const named = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name || ''}`);
  }
  for (const el of document.querySelectorAll('button,a')) {
    if (!(el.textContent.trim() || el.getAttribute('aria-label'))) problems.push(`nameless ${el.tagName.toLowerCase()}`);
  }
  for (const t of document.querySelectorAll('table')) {
    if (!t.querySelector('caption') && !t.getAttribute('aria-label')) problems.push('a table without caption');
  }
  const rgb = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  let measured = 0;
  for (const el of document.querySelectorAll('body *')) {
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
    const style = getComputedStyle(el);
    const bg = background(el);
    let fg = rgb(style.color);
    fg = { r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a) };
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    measured += 1;
    if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}:1 for "${el.textContent.trim().slice(0, 30)}" (${style.color} on rgb(${bg.r}, ${bg.g}, ${bg.b}))`);
  }
  if (!measured) problems.push('no text measured');
  return problems;
}

async function accessible(url, name) {
  const p = await withJs.newPage();
  await p.goto(url);
  const problems = await p.evaluate(audit);
  await p.close();
  check(problems.length === 0, `${name}: accessibility smoke check (${problems.join('; ') || 'clean'})`);
}

// The checker itself finds what it looks for, on a page made of the faults.
{
  const p = await withJs.newPage();
  await p.setContent('<html><head><title>t</title></head><body><main><h1>a</h1><h1>b</h1><h3>c</h3><input name="q"><table><tr><td>x</td></tr></table><p style="color:#aaa">faint</p><a href="#"></a></main></body></html>');
  const found = (await p.evaluate(audit)).join('\n');
  for (const want of ['no lang', '2 h1 elements', 'heading level skipped', 'unlabelled input q', 'a table without caption', 'contrast 2.32:1 for "faint"', 'nameless a']) {
    check(found.includes(want), `the accessibility check finds: ${want}`);
  }
  await p.close();
}

const page = await noJs.newPage();

// The login page: the request shown plainly, a user picked, the redirect back.
await page.goto(cfg.authorizeUrl);
check((await page.locator('h1').textContent()).startsWith('Sign in to'), 'login page: heading');
const request = await page.locator('table').innerText();
for (const want of ['demo-rp', cfg.callbackPrefix, 'openid profile email offline_access', 'S256']) {
  check(request.includes(want), `login page: the request shows ${want}`);
}
await page.screenshot({ path: `${cfg.out}/login.png` });
await accessible(cfg.authorizeUrl, 'login page');
await Promise.all([page.waitForURL(`${cfg.callbackPrefix}**`), page.getByRole('button', { name: 'alice' }).click()]);
const back = new URL(page.url());
check(back.searchParams.get('code') && back.searchParams.get('state') === 'browser-test', 'login page: picking alice redirects back with a code and the state');

// response_mode=form_post (silent now: the IdP's session cookie): without JavaScript the
// page shows a button that posts the response to the callback; with it, it posts itself.
await page.goto(`${cfg.authorizeUrl}&response_mode=form_post`);
check((await page.locator('h1').textContent()) === 'Signing you in', 'form_post page: heading');
await page.screenshot({ path: `${cfg.out}/form_post.png` });
await Promise.all([page.waitForURL(`${cfg.callbackPrefix}**`), page.getByRole('button', { name: 'Continue' }).click()]);
check((await page.textContent('body')).includes('callback reached: POST'), 'form_post page: its button posts to the callback');
const scripted = await withJs.newPage();
await Promise.all([
  scripted.waitForURL(`${cfg.callbackPrefix}**`),
  scripted.goto(`${cfg.authorizeUrl}&response_mode=form_post&login_hint=alice`),
]);
check((await scripted.textContent('body')).includes('callback reached: POST'), 'form_post page: with JavaScript it posts itself');
await scripted.close();

// The signed-out page (front-channel logout): it loads the RP's front-channel URL in an
// iframe and links back to the application; with scripts on it goes back by itself once
// the frames have loaded. The session is alice's from the login above.
const back_to = `${cfg.endSessionUrl}?client_id=demo-rp&post_logout_redirect_uri=${encodeURIComponent(cfg.postLogoutUrl)}&state=bye`;
await page.goto(back_to);
const signedOut = await page.locator('h1').textContent();
check(signedOut === 'You are signed out', `signed-out page: heading (${signedOut}: ${(await page.textContent('body')).slice(0, 200)})`);
check((await page.locator('iframe').count()) === 1, 'signed-out page: one front-channel iframe');
check((await page.locator('iframe').getAttribute('src')).includes('sid='), 'signed-out page: the iframe names the session');
await page.screenshot({ path: `${cfg.out}/signed_out.png` });
await Promise.all([page.waitForURL(`${cfg.postLogoutUrl}**`), page.getByRole('link', { name: 'Continue to the application' }).click()]);
check(new URL(page.url()).searchParams.get('state') === 'bye', 'signed-out page: its link returns to the application with the state');
{
  const p = await withJs.newPage();
  await p.goto(`${cfg.authorizeUrl}&login_hint=alice`);
  await accessible(`${cfg.endSessionUrl}`, 'signed-out page');
  await p.goto(`${cfg.authorizeUrl}&login_hint=alice`);
  await Promise.all([p.waitForURL(`${cfg.postLogoutUrl}**`), p.goto(back_to)]);
  check((await p.textContent('h1')) === 'signed out at the RP', 'signed-out page: with JavaScript it returns to the application by itself');
  await p.close();
}

// Session management (OIDC Session Management 1.0): the RP's page at its own origin loads
// the provider's check-session iframe and posts it the session_state of its login: the
// iframe's script recomputes it from the browser state cookie and answers "unchanged";
// after a logout at the provider, "changed".
{
  const p = await withJs.newPage();
  await Promise.all([p.waitForURL(`${cfg.callbackPrefix}**`), p.goto(`${cfg.authorizeUrl}&login_hint=alice`)]);
  const state = new URL(p.url()).searchParams.get('session_state');
  check(state && state.includes('.'), 'session management: the authorization response carries session_state');
  const checkPage = `${cfg.sessionCheckUrl}?iframe=${encodeURIComponent(cfg.checkSessionUrl)}&state=${encodeURIComponent(state)}`;
  const answer = async () => {
    await p.goto(checkPage);
    await p.waitForFunction(() => document.getElementById('answer').textContent !== 'waiting');
    return p.textContent('#answer');
  };
  const before = await answer();
  check(before === 'unchanged', `session management: the iframe answers unchanged while the session lasts (${before})`);
  await p.screenshot({ path: `${cfg.out}/session_check.png` });
  await p.goto(cfg.endSessionUrl);
  const after = await answer();
  check(after === 'changed', `session management: after the logout the iframe answers changed (${after})`);
  await p.close();
}

// The device verification page (RFC 8628): the code typed as people type it, what the
// device asks for shown, a user picked, the outcome said.
await page.goto(cfg.deviceUrl);
check((await page.locator('h1').textContent()).startsWith('Connect a device'), 'device page: asks for the code');
await accessible(cfg.deviceUrl, 'device page');
await page.getByLabel('Code').fill(cfg.userCode.toLowerCase().replace('-', ' '));
await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Continue' }).click()]);
check((await page.locator('h1').textContent()).startsWith('Allow a device'), 'device page: the typed code finds the request');
const asked = await page.locator('table').innerText();
check(asked.includes('demo-cli') && asked.includes('openid profile') && asked.includes(cfg.userCode), `device page: the request shows client, scopes and code (${asked})`);
await page.screenshot({ path: `${cfg.out}/device.png` });
await accessible(page.url(), 'device page with a request');
await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'alice' }).click()]);
check((await page.locator('h1').textContent()) === 'Device allowed', 'device page: picking alice allows the device');

// The token inspector: a real token decoded, a bad one refused.
await page.goto(cfg.debugUrl);
await page.getByLabel('A token this tenant issued').fill(cfg.idToken);
await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Inspect' }).click()]);
const signature = await page.locator('#signature').textContent();
check(signature.startsWith('valid: RS256'), `inspector: the signature is verified (${signature})`);
check((await page.locator('tr.groups').innerText()).includes('groups'), 'inspector: the groups claim is highlighted');
check(/\(in (59|60) min\)/.test(await page.locator('#result').innerText()), 'inspector: exp read as a date, relative to the tenant clock');
await page.screenshot({ path: `${cfg.out}/inspector.png`, fullPage: true });
await accessible(`${cfg.debugUrl}?token=${cfg.idToken}`, 'inspector with a token');
await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: /^bob's access token for demo-rp/ }).click()]);
check((await page.locator('#result h3').textContent()) === 'Decoded: access token', 'inspector: a token picked from the newest issued is decoded');
check((await page.locator('#signature').textContent()).startsWith('valid'), 'inspector: the picked token\'s signature is verified');
await page.getByLabel('A token this tenant issued').fill('not-a-token');
await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Inspect' }).click()]);
check((await page.getByRole('alert').textContent()).includes('three dot-separated parts'), 'inspector: a bad token is refused with the reason');

// Users, the live journal, discovery: the links work.
await page.getByRole('link', { name: 'Users' }).click();
check((await page.locator('#users ~ table, section:has(#users) table').first().innerText()).includes('alice'), 'debug page: the users with their groups');
await page.getByRole('link', { name: 'Journal (live)' }).first().click();
check((await page.locator('h1').textContent()).includes('journal'), 'journal page: reached by its link');
const journal = await page.locator('table').innerText();
check(journal.includes('authorize') && journal.includes('token'), 'journal page: the login\'s requests are listed');
await page.screenshot({ path: `${cfg.out}/journal.png` });
await accessible(page.url(), 'journal page');
await page.getByRole('link', { name: 'Discovery document' }).click();
check((await page.content()).includes('authorization_endpoint'), 'journal page: the discovery link serves the document');

// The preflight report.
await page.goto(cfg.preflightHtml);
check((await page.locator('h1').textContent()).startsWith('Preflight of'), 'preflight report: heading');
check((await page.getByRole('status').textContent()).startsWith('READY'), 'preflight report: the verdict');
await page.screenshot({ path: `${cfg.out}/preflight.png`, fullPage: true });
await accessible(cfg.preflightHtml, 'preflight report');

// The conformance report: a scenario's link leads to its evidence.
await page.goto(cfg.reportHtml);
check((await page.locator('h1').textContent()) === 'Conformance report', 'conformance report: heading');
check((await page.locator('#attention ~ ul').innerText()).includes('idtoken.extra-untrusted-aud'), 'conformance report: the failure is listed first, under Needs attention');
const first = page.locator('#attention ~ ul a').first();
const target = (await first.getAttribute('href')).slice(1);
await first.click();
const evidence = page.locator(`details[id="${target}"]`);
check(await evidence.isVisible() && (await evidence.innerText()).includes('Requirement:'), `conformance report: the link to ${target} leads to its evidence`);
check((await evidence.innerText()).includes('IdP journal'), 'conformance report: the evidence cites the IdP journal');
await page.screenshot({ path: `${cfg.out}/report.png` });
await accessible(cfg.reportHtml, 'conformance report');

// The explore report: the verdict, the replay's timeline.
await page.goto(cfg.exploreHtml);
check((await page.locator('h1').textContent()) === 'conformance explore', 'explore report: heading');
check((await page.getByRole('status').textContent()).startsWith('NO DISAGREEMENT'), 'explore report: the verdict');
const timeline = page.locator('table', { has: page.locator('caption', { hasText: 'Timeline' }) });
check((await timeline.innerText()).includes('logged out in browser 0'), 'explore report: the timeline shows every action');
await page.screenshot({ path: `${cfg.out}/explore.png`, fullPage: true });
await accessible(cfg.exploreHtml, 'explore report');

await browser.close();
console.log(JSON.stringify({ checks: done }, null, 1));
