"""A relying party as a team would write one on pyoidc (the `oic` package, an OpenID
Certified RP library) with Flask: discovery at start-up (pyoidc compares the document's
issuer with the configured one and loads the JWKS), the code flow with PKCE, state and
nonce, the ID token verified by pyoidc, groups sent by reference resolved with its
`unpack_aggregated_claims` and `fetch_distributed_claims`, and a background sync that
refreshes every session with the refresh token. The glue only maps claims to an account,
the groups to permissions, and an invalid_grant to the end of access."""

import json
import os
import secrets
import sys
import threading
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request, session
from oic import rndstr
from oic.oauth2.message import ErrorResponse
from oic.oic import Client
from oic.oic.message import (
    AccessTokenResponse,
    AuthorizationResponse,
    BackChannelLogoutRequest,
    RegistrationResponse,
)
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic.utils.settings import ClientSettings

env = os.environ
BASE_URL = env["BASE_URL"].rstrip("/")
CALLBACK = "/login/oauth2/callback"
MODE = env.get("SYNC_MODE", "strict")
GROUP_MAP = json.loads(env.get("GROUP_MAP", "{}"))
GROUPS_TOKEN, GROUPS_POINTER = env.get("GROUPS_CLAIM", "id_token:/groups").split(":", 1)
SYNC_S = float(env.get("SYNC_INTERVAL_S", "600"))
TIMEOUT_S = float(env.get("IDP_TIMEOUT_S", "10"))
AUTH = env.get("CLIENT_AUTH", "client_secret_post")
ISSUER = env["ISSUER"].rstrip("/")

app = Flask(__name__)
app.secret_key = secrets.token_hex(32)

# pyoidc's Client keeps per-login state (grants by `state`) in plain dicts: one lock.
oidc_lock = threading.Lock()
in_flight = set()  # sessions whose refresh runs now
client = Client(
    client_authn_method=CLIENT_AUTHN_METHOD,
    settings=ClientSettings(timeout=TIMEOUT_S),
)

lock = threading.Lock()
accounts = {}  # sub -> account
sessions = {}  # session id -> {"sub", "idp_sid", "state", "id_token"}


def pointer(doc, p):
    """RFC 6901."""
    for key in p.split("/")[1:]:
        key = key.replace("~1", "/").replace("~0", "~")
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def jwt_payload(jwt):
    import base64

    try:
        part = jwt.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except Exception:
        return {}


def groups_of(atr, id_token):
    """The groups where GROUPS_CLAIM says; claims sent by reference are resolved first."""
    if GROUPS_TOKEN == "access_token":
        doc = jwt_payload(atr["access_token"])
    else:
        doc = id_token
        if "_claim_sources" in doc:
            with oidc_lock:
                doc = client.unpack_aggregated_claims(doc)
                doc = client.fetch_distributed_claims(doc)
        doc = doc.to_dict()
    g = pointer(doc, GROUPS_POINTER)
    if g is None:
        return None
    return [str(x) for x in g] if isinstance(g, list) else [str(g)]


def apply(account, claims, groups):
    account["email"] = claims.get("email")
    account["username"] = claims.get("preferred_username")
    account["name"] = claims.get("name")
    if MODE == "none":
        return
    mapped = {p for g in (groups or []) for p in GROUP_MAP.get(g, [])}
    if MODE == "strict":
        account["permissions"] = mapped
    else:
        account["permissions"] |= mapped


def revoke(sub):
    for sid in [k for k, s in sessions.items() if s["sub"] == sub]:
        del sessions[sid]
    if sub in accounts:
        accounts[sub]["permissions"] = set()


@app.get("/login")
def login():
    state, nonce = rndstr(32), rndstr(32)
    with oidc_lock:
        challenge, verifier = client.add_code_challenge()
        args = {
            "client_id": client.client_id,
            "response_type": "code",
            "scope": env.get("SCOPES", "openid profile email offline_access").split(),
            "redirect_uri": BASE_URL + CALLBACK,
            "state": state,
            "nonce": nonce,
            **challenge,
        }
        url = client.construct_AuthorizationRequest(request_args=args).request(
            client.authorization_endpoint
        )
    session["login"] = {"state": state, "nonce": nonce, "verifier": verifier}
    return redirect(url)


@app.get(CALLBACK)
def callback():
    pending = session.pop("login", None)
    try:
        if not pending:
            raise ValueError("no login in progress")
        with oidc_lock:
            aresp = client.parse_response(
                AuthorizationResponse, info=request.query_string.decode(), sformat="urlencoded"
            )
            if isinstance(aresp, ErrorResponse):
                raise ValueError(f"the provider answered {aresp.to_dict()}")
            if aresp.get("state") != pending["state"]:
                raise ValueError("state mismatch")
            atr = client.do_access_token_request(
                state=pending["state"],
                request_args={
                    "code": aresp["code"],
                    "redirect_uri": BASE_URL + CALLBACK,
                    "code_verifier": pending["verifier"],
                },
                authn_method=AUTH,
            )
            if isinstance(atr, ErrorResponse):
                raise ValueError(f"the token endpoint answered {atr.to_dict()}")
            id_token = atr["id_token"]
            client.verify_id_token(id_token, {"nonce": pending["nonce"]})
        groups = groups_of(atr, id_token)
    except Exception as e:  # pyoidc raises for a bad state, an IdP error, a bad ID token
        return jsonify(error="login_failed", error_description=f"{type(e).__name__}: {e}"), 401
    claims = id_token.to_dict()
    for c in ("sub", "email", "preferred_username"):
        if not claims.get(c):
            return jsonify(error="login_failed", error_description=f"no {c} claim"), 401
    if not atr.get("refresh_token"):
        return jsonify(error="login_failed", error_description="no refresh token"), 401
    sid = secrets.token_urlsafe(32)
    with lock:
        account = accounts.setdefault(
            claims["sub"], {"id": len(accounts) + 1, "sub": claims["sub"], "permissions": set()}
        )
        apply(account, claims, groups)
        sessions[sid] = {
            "sub": claims["sub"],
            "idp_sid": claims.get("sid"),
            "state": pending["state"],
            "id_token": atr.get("id_token_jwt") or "",
        }
    session.clear()
    session["sid"] = sid
    return redirect("/me")


def current():
    return sessions.get(session.get("sid", ""))


@app.get("/me")
def me():
    with lock:
        s = current()
        if not s:
            return jsonify(error="not_logged_in"), 401
        a = accounts[s["sub"]]
        return jsonify(
            id=a["id"], sub=a["sub"], email=a["email"], username=a["username"],
            name=a["name"], permissions=sorted(a["permissions"]),
        )


@app.get("/logout")
def logout():
    """RP-initiated logout: the session ends here, then at the provider's
    end_session_endpoint, which sends the browser back to /logged-out."""
    with lock:
        s = sessions.pop(session.get("sid", ""), None)
    session.clear()
    end = client.provider_info.get("end_session_endpoint")
    if not end:
        return redirect("/")
    params = {"post_logout_redirect_uri": BASE_URL + "/logged-out", "state": rndstr(16)}
    if s and s["id_token"]:
        params["id_token_hint"] = s["id_token"]
    else:
        params["client_id"] = client.client_id
    return redirect(end + ("&" if "?" in end else "?") + urlencode(params))


@app.get("/logged-out")
def logged_out():
    return jsonify(logged_out=True)


@app.post("/backchannel-logout")
def backchannel_logout():
    """OpenID Connect Back-Channel Logout 1.0 with pyoidc's own message: the logout token's
    signature against the provider's keys, its audience and issuer, events, no nonce."""
    try:
        req = BackChannelLogoutRequest().from_urlencoded(request.get_data(as_text=True))
        with oidc_lock:
            req.verify(keyjar=client.keyjar, aud=client.client_id, iss=client.provider_info["issuer"])
    except Exception as e:  # pyoidc raises for a bad signature, algorithm or claim
        return jsonify(error="invalid_request", error_description=f"{type(e).__name__}: {e}"), 400
    token = req["logout_token"]
    sub, idp_sid = token.get("sub"), token.get("sid")
    with lock:
        for k in [
            k for k, s in sessions.items()
            if (idp_sid is None or s["idp_sid"] == idp_sid) and (sub is None or s["sub"] == sub)
        ]:
            del sessions[k]
    return "", 200, {"Cache-Control": "no-store"}


@app.get("/frontchannel-logout")
def frontchannel_logout():
    """OpenID Connect Front-Channel Logout 1.0: the session named by iss and sid (a
    cross-site iframe brings no Flask session cookie)."""
    iss, idp_sid = request.args.get("iss"), request.args.get("sid")
    if iss == client.provider_info["issuer"] and idp_sid:
        with lock:
            for k in [k for k, s in sessions.items() if s["idp_sid"] == idp_sid]:
                del sessions[k]
    return "", 200, {"Cache-Control": "no-store"}


@app.post("/grant")
def grant():
    with lock:
        s = current()
        if not s:
            return jsonify(error="not_logged_in"), 401
        if MODE == "strict":
            return jsonify(error="permissions come from the groups"), 403
        p = str((request.get_json(silent=True) or {}).get("permission"))
        accounts[s["sub"]]["permissions"].add(p)
        return jsonify(granted=p)


def refresh(sid, s):
    try:
        _refresh(sid, s)
    finally:
        with lock:
            in_flight.discard(sid)


def _refresh(sid, s):
    try:
        with oidc_lock:
            fresh = client.do_access_token_refresh(state=s["state"], authn_method=AUTH)
        if isinstance(fresh, ErrorResponse):
            if fresh.get("error") == "invalid_grant":
                with lock:
                    revoke(s["sub"])
            else:
                print(f"refresh for {s['sub']}: {fresh.to_dict()}", file=sys.stderr)
            return
        id_token = fresh.get("id_token")
        groups = groups_of(fresh, id_token) if id_token is not None else None
    except Exception as e:  # a timeout, a 5xx, a token that does not verify
        print(f"refresh for {s['sub']}: {e!r}", file=sys.stderr)
        return
    with lock:
        if sid not in sessions or id_token is None:
            return
        apply(accounts[s["sub"]], id_token.to_dict(), groups)


def sync():
    # A session whose refresh is still in flight (pyoidc's client is used under one lock,
    # and a hung provider holds it up to the timeout) is left out of the tick: threads do
    # not pile up behind the lock, and a login never waits behind a queue of refreshes.
    while True:
        time.sleep(SYNC_S)
        with lock:
            todo = [(k, s) for k, s in sessions.items() if k not in in_flight]
            in_flight.update(k for k, _ in todo)
        for sid, s in todo:
            threading.Thread(target=refresh, args=(sid, s), daemon=True).start()


if __name__ == "__main__":
    # At start-up, as production apps do: discovery (pyoidc compares the issuer) and keys.
    client.provider_config(ISSUER)
    if AUTH == "private_key_jwt":
        sys.exit("this app authenticates with a client secret only")
    client.store_registration_info(
        RegistrationResponse(
            client_id=env["CLIENT_ID"],
            client_secret=env["CLIENT_SECRET"],
            redirect_uris=[BASE_URL + CALLBACK],
            token_endpoint_auth_method=AUTH,
        )
    )
    client.redirect_uris = [BASE_URL + CALLBACK]
    threading.Thread(target=sync, daemon=True).start()
    app.run(host="127.0.0.1", port=int(env["PORT"]), threaded=True)
