"""A relying party as a team would write one on Authlib's Flask client: discovery at
start-up, the code flow with PKCE, state and nonce (Authlib checks them and validates the
ID token), and a background sync that refreshes every session with the refresh token.
The glue only maps claims to an account, the groups to permissions, and an invalid_grant
to the end of access."""

import json
import os
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.jose import JsonWebToken
from flask import Flask, jsonify, redirect, request, session

env = os.environ
BASE_URL = env["BASE_URL"].rstrip("/")
CALLBACK = "/login/oauth2/callback"
MODE = env.get("SYNC_MODE", "strict")
GROUP_MAP = json.loads(env.get("GROUP_MAP", "{}"))
GROUPS_TOKEN, GROUPS_POINTER = env.get("GROUPS_CLAIM", "id_token:/groups").split(":", 1)
SYNC_S = float(env.get("SYNC_INTERVAL_S", "600"))
TIMEOUT_S = float(env.get("IDP_TIMEOUT_S", "10"))

app = Flask(__name__)
app.secret_key = secrets.token_hex(32)
oauth = OAuth(app)
# CLIENT_AUTH: client_secret_post, or private_key_jwt with the key the runner made
# (CLIENT_KEY_FILE), which Authlib takes in place of the secret.
AUTH = env.get("CLIENT_AUTH", "client_secret_post")
if AUTH == "private_key_jwt":
    with open(env["CLIENT_KEY_FILE"]) as f:
        CREDENTIAL = f.read()
    AUTH_METHODS = [PrivateKeyJWT()]
else:
    CREDENTIAL = env["CLIENT_SECRET"]
    AUTH_METHODS = None
oauth.register(
    "idp",
    client_id=env["CLIENT_ID"],
    client_secret=CREDENTIAL,
    server_metadata_url=env["ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
    client_auth_methods=AUTH_METHODS,
    client_kwargs={
        "scope": env.get("SCOPES", "openid profile email offline_access"),
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": AUTH,
        "timeout": TIMEOUT_S,
    },
)

lock = threading.Lock()
accounts = {}  # sub -> account
sessions = {}  # session id -> {"sub", "idp_sid", "token"}
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


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


def groups_of(token, claims):
    doc = jwt_payload(token["access_token"]) if GROUPS_TOKEN == "access_token" else claims
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
    return oauth.idp.authorize_redirect(BASE_URL + CALLBACK)


@app.get(CALLBACK)
def callback():
    try:
        token = oauth.idp.authorize_access_token()
    except Exception as e:  # Authlib raises for a bad state, an IdP error, a bad ID token
        return jsonify(error="login_failed", error_description=str(e)), 401
    claims = token.get("userinfo") or {}
    for c in ("sub", "email", "preferred_username"):
        if not claims.get(c):
            return jsonify(error="login_failed", error_description=f"no {c} claim"), 401
    if not token.get("refresh_token"):
        return jsonify(error="login_failed", error_description="no refresh token"), 401
    sid = secrets.token_urlsafe(32)
    with lock:
        account = accounts.setdefault(
            claims["sub"], {"id": len(accounts) + 1, "sub": claims["sub"], "permissions": set()}
        )
        apply(account, claims, groups_of(token, claims))
        sessions[sid] = {"sub": claims["sub"], "idp_sid": claims.get("sid"), "token": token}
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
    """RP-initiated logout (Authlib has no helper for it): the session ends here, then at the
    provider's end_session_endpoint, which sends the browser back to /logged-out."""
    with lock:
        s = sessions.pop(session.get("sid", ""), None)
    session.clear()
    end = oauth.idp.load_server_metadata().get("end_session_endpoint")
    if not end:
        return redirect("/")
    params = {"post_logout_redirect_uri": BASE_URL + "/logged-out", "state": secrets.token_urlsafe(16)}
    id_token = s and s["token"].get("id_token")
    if id_token:
        params["id_token_hint"] = id_token
    else:
        params["client_id"] = env["CLIENT_ID"]
    return redirect(end + ("&" if "?" in end else "?") + urlencode(params))


@app.get("/logged-out")
def logged_out():
    return jsonify(logged_out=True)


@app.post("/backchannel-logout")
def backchannel_logout():
    """OpenID Connect Back-Channel Logout 1.0, validated the way Authlib validates an ID
    token (the algorithms the provider advertises, its JWKS through Authlib's key loader,
    iss/aud/exp/iat as claims options), plus the logout token's own rules (§2.6)."""
    metadata = oauth.idp.load_server_metadata()
    try:
        decoder = JsonWebToken(metadata.get("id_token_signing_alg_values_supported") or ["RS256"])
        claims = decoder.decode(
            request.form.get("logout_token", ""),
            key=oauth.idp.create_load_key(),
            claims_options={
                "iss": {"essential": True, "values": [metadata["issuer"]]},
                "aud": {"essential": True, "values": [env["CLIENT_ID"]]},
                "exp": {"essential": True},
                "iat": {"essential": True},
            },
        )
        claims.validate(leeway=60)
    except Exception as e:  # Authlib raises for a bad signature, algorithm or claim
        return jsonify(error="invalid_request", error_description=str(e)), 400
    if not isinstance((claims.get("events") or {}).get(LOGOUT_EVENT), dict):
        return jsonify(error="invalid_request", error_description="not a logout event"), 400
    if "nonce" in claims:
        return jsonify(error="invalid_request", error_description="a nonce"), 400
    sub, idp_sid = claims.get("sub"), claims.get("sid")
    if not sub and not idp_sid:
        return jsonify(error="invalid_request", error_description="no sub or sid"), 400
    with lock:
        for k in [
            k for k, s in sessions.items()
            if (idp_sid is None or s["idp_sid"] == idp_sid) and (sub is None or s["sub"] == sub)
        ]:
            del sessions[k]
    return "", 200, {"Cache-Control": "no-store"}


@app.get("/frontchannel-logout")
def frontchannel_logout():
    """OpenID Connect Front-Channel Logout 1.0: the IdP's signed-out page loads this in an
    iframe, with iss and sid naming the session (§2, §4). A cross-site iframe brings no
    Flask session cookie, so the session is found by the IdP's sid."""
    metadata = oauth.idp.load_server_metadata()
    iss, idp_sid = request.args.get("iss"), request.args.get("sid")
    if iss == metadata["issuer"] and idp_sid:
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
    client = oauth.idp._get_oauth_client()
    metadata = oauth.idp.load_server_metadata()
    try:
        fresh = client.refresh_token(
            metadata["token_endpoint"], refresh_token=s["token"]["refresh_token"]
        )
        claims = oauth.idp.parse_id_token(fresh, nonce=None) if fresh.get("id_token") else None
    except OAuthError as e:
        if e.error == "invalid_grant":
            with lock:
                revoke(s["sub"])
        else:
            print(f"refresh for {s['sub']}: {e}", file=sys.stderr)
        return
    except Exception as e:  # a timeout, a 5xx, a token that does not validate
        print(f"refresh for {s['sub']}: {e!r}", file=sys.stderr)
        return
    with lock:
        if sid not in sessions:
            return
        fresh.setdefault("refresh_token", s["token"]["refresh_token"])
        s["token"] = fresh
        if claims is not None:
            apply(accounts[s["sub"]], claims, groups_of(fresh, claims))


def sync():
    pool = ThreadPoolExecutor(max_workers=32)
    in_flight = set()
    while True:
        time.sleep(SYNC_S)
        with lock:
            todo = [(k, s) for k, s in sessions.items() if k not in in_flight]
            in_flight.update(k for k, _ in todo)
        for sid, s in todo:
            def run(sid=sid, s=s):
                try:
                    refresh(sid, s)
                finally:
                    with lock:
                        in_flight.discard(sid)

            pool.submit(run)


if __name__ == "__main__":
    oauth.idp.load_server_metadata()  # at start-up, as production apps do
    threading.Thread(target=sync, daemon=True).start()
    app.run(host="127.0.0.1", port=int(env["PORT"]), threaded=True)
