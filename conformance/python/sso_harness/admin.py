"""A typed client of mock-idp's admin API (``<issuer>/admin``): users and their groups,
disable, delete and revoke, faults by name, the clock, the signing keys, the journal, and
tenants. Standard library only."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Union

Json = Any


class AdminError(Exception):
    """The admin API refused a call: its HTTP status and RFC 6749 error."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        self.status = status
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        doc = doc if isinstance(doc, dict) else {}
        self.error: Optional[str] = doc.get("error")
        self.description: Optional[str] = doc.get("error_description")
        why = self.description or self.error or body.strip()[:200]
        super().__init__(f"{method} {url}: {status} {why}")


class Admin:
    """The admin API of one tenant, at ``issuer + "/admin"``."""

    def __init__(self, issuer: str, token: Optional[str] = None, timeout: float = 10.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.base = self.issuer + "/admin"
        self.token = token
        self.timeout = timeout

    def call(self, method: str, path: str, body: Json = None) -> Json:
        """One admin request; its JSON answer (``None`` for 204). Raises ``AdminError``."""
        url = self.base + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                text = res.read().decode()
        except urllib.error.HTTPError as e:
            raise AdminError(method, url, e.code, e.read().decode(errors="replace")) from None
        return json.loads(text) if text else None

    # Users.
    def users(self) -> List[Dict[str, Json]]:
        return self.call("GET", "/users")

    def user(self, username: str) -> Dict[str, Json]:
        return self.call("GET", f"/users/{_q(username)}")

    def put_user(self, username: str, *, sub: Optional[str] = None,
                 email: Optional[str] = None, name: Optional[str] = None,
                 groups: Optional[List[str]] = None, **claims: Json) -> Dict[str, Json]:
        """Creates or replaces a user (``claims``: more fields, as in the config's ``[[users]]``)."""
        body: Dict[str, Json] = dict(claims)
        for k, v in (("sub", sub), ("email", email), ("name", name), ("groups", groups)):
            if v is not None:
                body[k] = v
        return self.call("PUT", f"/users/{_q(username)}", body)

    def patch_user(self, username: str, **fields: Json) -> Dict[str, Json]:
        """Changes ``groups``, ``email``, ``name``, ``preferred_username``, ``claims``, ``disabled``."""
        return self.call("PATCH", f"/users/{_q(username)}", fields)

    def set_groups(self, username: str, groups: List[str]) -> Dict[str, Json]:
        return self.patch_user(username, groups=groups)

    def disable(self, username: str) -> Dict[str, Json]:
        return self.patch_user(username, disabled=True)

    def enable(self, username: str) -> Dict[str, Json]:
        return self.patch_user(username, disabled=False)

    def delete_user(self, username: str) -> None:
        """Deletes the user: every session ends and every token stops working."""
        self.call("DELETE", f"/users/{_q(username)}")

    def revoke(self, username: str) -> int:
        """Ends every session and grant of the user; how many logins were live."""
        return self.call("POST", f"/users/{_q(username)}/revoke", {})["revoked"]

    # The clock.
    def now(self) -> int:
        return self.call("GET", "/clock")["now"]

    def advance_clock(self, seconds: int) -> int:
        """Moves the tenant's clock (tokens expire) without sleeping; the new time."""
        return self.call("POST", "/clock", {"advance": seconds})["now"]

    def set_clock(self, unix: int) -> int:
        return self.call("POST", "/clock", {"set": unix})["now"]

    # Keys.
    def keys(self) -> Dict[str, Json]:
        """The JWKS the tenant publishes now."""
        return self.call("GET", "/keys")

    def rotate_key(self, alg: Optional[str] = None, grace: Optional[int] = None) -> Dict[str, Json]:
        body: Dict[str, Json] = {}
        if alg is not None:
            body["alg"] = alg
        if grace is not None:
            body["grace"] = grace
        return self.call("POST", "/keys/rotate", body)

    # Faults.
    def faults(self) -> List[Dict[str, Json]]:
        return self.call("GET", "/faults")

    def arm_fault(self, fault: Union[str, Dict[str, Json]], *, times: Optional[int] = None,
                  user: Optional[str] = None, client_id: Optional[str] = None,
                  grant_type: Optional[str] = None, **params: Json) -> int:
        """Arms a fault by name (``"http_status"``, ``status=503``) or as its JSON; its id.
        Without ``times`` it fires until cleared."""
        spec = {"kind": fault, **params} if isinstance(fault, str) else dict(fault, **params)
        body = {"fault": spec, "times": times, "user": user, "client_id": client_id,
                "grant_type": grant_type}
        return self.call("POST", "/faults", body)["id"]

    def clear_faults(self, fault_id: Optional[int] = None) -> None:
        self.call("DELETE", "/faults" if fault_id is None else f"/faults/{fault_id}")

    # The journal.
    def journal(self, user: Optional[str] = None, since: Optional[int] = None) -> List[Dict[str, Json]]:
        """Every protocol request the tenant kept (oldest first), optionally one user's,
        after sequence number ``since``."""
        q = {k: v for k, v in (("user", user), ("since", since)) if v is not None}
        return self.call("GET", "/journal" + ("?" + urllib.parse.urlencode(q) if q else ""))

    def clear_journal(self) -> None:
        self.call("DELETE", "/journal")

    # Tenants (the default tenant's admin only).
    def create_tenant(self, name: str, config: Optional[Dict[str, Json]] = None,
                      profile: Optional[str] = None,
                      keys: Optional[str] = None) -> Dict[str, Json]:
        body: Dict[str, Json] = {"name": name}
        if config is not None:
            body["config"] = config
        if profile is not None:
            body["profile"] = profile
        if keys is not None:
            body["keys"] = keys
        return self.call("POST", "/tenants", body)

    def delete_tenant(self, name: str) -> None:
        self.call("DELETE", f"/tenants/{_q(name)}")


def _q(s: str) -> str:
    return urllib.parse.quote(s, safe="")
