'use strict';
// A browser for tests: a cookie jar (tough-cookie), redirects followed one by one, and a
// login through the RP that names the user to the mock IdP with `login_hint` (a user
// without a password logs in without the page), so `login('alice')` runs a real
// authorization code flow.
const { CookieJar } = require('tough-cookie');

class Browser {
  constructor(rpUrl, idpOrigin) {
    this.base = rpUrl.replace(/\/$/, '');
    this.idpOrigin = idpOrigin;
    this.jar = new CookieJar();
  }

  /** One request, no redirect followed: `{ status, headers, url, text() , json() }`. */
  async request(method, path, { body, headers = {} } = {}) {
    const url = new URL(path, `${this.base}/`).toString();
    const cookie = await this.jar.getCookieString(url);
    const res = await fetch(url, {
      method,
      body,
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
      redirect: 'manual',
    });
    for (const c of res.headers.getSetCookie()) await this.jar.setCookie(c, url, { ignoreError: true });
    return res;
  }

  get(path) { return this.request('GET', path); }

  async getJson(path) {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`GET ${res.url}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res.json();
  }

  postJson(path, value) {
    return this.request('POST', path, { body: JSON.stringify(value), headers: { 'content-type': 'application/json' } });
  }

  /** Logs `username` in through the RP from `start`; the RP's last answer. */
  async login(username, start = '/login') {
    let url = new URL(start, `${this.base}/`);
    for (let hop = 0; hop < 16; hop += 1) {
      const res = await this.request('GET', url.toString());
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url);
        if (url.origin === this.idpOrigin && url.searchParams.has('client_id') && !url.searchParams.has('login_hint')) {
          url.searchParams.set('login_hint', username);
        }
        continue;
      }
      if (url.origin !== new URL(this.base).origin || res.status >= 400) {
        throw new Error(`logging ${username} in stopped at ${url}: ${res.status} ${(await res.text()).slice(0, 300)}`);
      }
      return res;
    }
    throw new Error(`logging ${username} in: more than 16 hops`);
  }
}

module.exports = { Browser };
