"""A browser for tests: cookies, redirects followed one by one, and the mock IdP's login
page filled in, so that ``browser.login("alice")`` runs a real authorization code flow
through your RP. Standard library only."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from typing import Any, Dict, List, Optional, Tuple


class Response:
    """An answer: status, headers, body, and the URL it came from."""

    def __init__(self, url: str, status: int, headers: Any, body: bytes) -> None:
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.url}>"


class LoginError(Exception):
    """The login did not get back to the RP."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _LoginForm(HTMLParser):
    """The mock IdP's login form: its action and hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: Optional[str] = None
        self.fields: List[Tuple[str, str]] = []
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self._in_form, self.action = True, a.get("action") or ""
        elif tag == "input" and self._in_form and a.get("type") == "hidden" and a.get("name"):
            self.fields.append((a["name"] or "", a.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


class Browser:
    """One browser (its own cookies) in front of the RP at ``base_url``."""

    def __init__(self, base_url: str, idp_origin: Optional[str] = None, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.idp_origin = idp_origin
        self.timeout = timeout
        self.cookies = CookieJar()
        self._open = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        ).open

    def request(self, method: str, url: str, data: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None) -> Response:
        """One request, no redirect followed."""
        url = urllib.parse.urljoin(self.base_url + "/", url)
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self._open(req, timeout=self.timeout) as res:
                return Response(url, res.status, res.headers, res.read())
        except urllib.error.HTTPError as e:
            return Response(url, e.code, e.headers, e.read())

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def get_json(self, path: str) -> Any:
        r = self.get(path)
        if r.status != 200:
            raise AssertionError(f"GET {r.url}: {r.status} {r.text[:300]}")
        return r.json()

    def post_json(self, path: str, body: Any) -> Response:
        return self.request("POST", path, json.dumps(body).encode(),
                            {"Content-Type": "application/json"})

    def login(self, username: str, start: str = "/login") -> Response:
        """Logs ``username`` in through the RP: from ``start`` through the IdP's login page
        back to the RP's callback; the RP's last answer (after its own redirects)."""
        url = urllib.parse.urljoin(self.base_url + "/", start)
        form: Optional[bytes] = None
        rp = urllib.parse.urlsplit(self.base_url)[:2]
        for _ in range(16):
            r = self.request("POST" if form is not None else "GET", url, form,
                             {"Content-Type": "application/x-www-form-urlencoded"} if form else None)
            form = None
            location = r.headers.get("Location")
            if 300 <= r.status < 400 and location:
                url = urllib.parse.urljoin(url, location)
                continue
            at_rp = urllib.parse.urlsplit(url)[:2] == rp
            if r.status == 200 and not at_rp:
                page = _LoginForm()
                page.feed(r.text)
                if page.action is not None:
                    fields = page.fields + [("username", username), ("action", "login")]
                    url = urllib.parse.urljoin(url, page.action)
                    form = urllib.parse.urlencode(fields).encode()
                    continue
            if not at_rp or r.status >= 400:
                raise LoginError(f"logging {username} in stopped at {url}: {r.status} {r.text[:300]}")
            return r
        raise LoginError(f"logging {username} in: more than 16 hops")
