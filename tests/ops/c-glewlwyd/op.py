"""Glewlwyd 2.7 (C; Debian's package), set up as its administrator would through its admin
API: the database initialised by the package's own script (its `admin` user and database
backends), an OpenID Connect plugin instance created with the admin console's defaults for
a new instance (read from the installed console, so they are this version's), given an
RSA key, the issuer and the OIDC scopes; the scopes profile, email and offline_access
created as password-protected scopes; the app's client (confidential, the code and refresh
grants, one redirect URI, client_secret_post ticked); users with a groups property. The
customer's changes to the plugin's defaults are what the app needs: the email and name
claims mandatory, preferred_username from the username, and the groups as an additional
ID-token claim and an additional access-token value. A person meets Glewlwyd's own login web application (the package's, served by
Glewlwyd itself with the package's config.json).

Environment: PORT (0: a free one), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI; PKCE_ALLOWED=1
turns on the plugin's "PKCE allowed" (off in the console's defaults).
Prints one JSON line, {"issuer": ...}, once the provider answers discovery.
Only the standard library: glewlwyd and openssl are Debian packages (install.sh).
"""

import atexit
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import gzip

WEBAPP = "/usr/share/glewlwyd/webapp/"
INIT_SQL = "/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz"


def env(k):
    if not os.environ.get(k):
        sys.exit(f"op.py: {k} is not set")
    return os.environ[k]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def console_defaults():
    """The admin console's parameters for a new OpenID Connect plugin instance."""
    js = open(WEBAPP + "admin.js").read()
    i = js.index('{"oauth-as-iss-id"')
    depth = 0
    for j in range(i, len(js)):
        if js[j] == "{":
            depth += 1
        elif js[j] == "}":
            depth -= 1
            if depth == 0:
                break
    obj = re.sub(r"([{,])([A-Za-z_][A-Za-z0-9_]*):", r'\1"\2":', js[i : j + 1])
    return json.loads(obj.replace("!0", "true").replace("!1", "false"))


port = int(os.environ.get("PORT") or 0) or free_port()
base = f"http://127.0.0.1:{port}/"
origin = f"http://127.0.0.1:{port}"
work = tempfile.mkdtemp(prefix="glewlwyd-")
db = os.path.join(work, "glewlwyd.db")
with sqlite3.connect(db) as c:
    c.executescript(gzip.open(INIT_SQL, "rt").read())

# The web application, with its config.json: Debian links webapp/config.json to a folder
# (/etc/glewlwyd/config-2.7.json/) holding the file, which a server of the folder itself
# answers 404. A copy (Glewlwyd serves no symbolic link).
static = os.path.join(work, "webapp")
shutil.copytree(WEBAPP, static, ignore=shutil.ignore_patterns("config.json"))
with open("/etc/glewlwyd/config-2.7.json/config.json") as src, open(
    os.path.join(static, "config.json"), "w"
) as dst:
    dst.write(src.read())

conf = open("/etc/glewlwyd/glewlwyd.conf").read()
conf = re.sub(r"(?m)^port=.*$", f"port={port}", conf)
conf = re.sub(r'(?m)^external_url=.*$', f'external_url="{origin}"', conf)
conf = re.sub(r'(?m)^log_mode=.*$', 'log_mode="console"', conf)
conf = re.sub(r'(?m)^#? ?static_files_path=.*$', f'static_files_path="{static}/"', conf)
conf = conf.replace(
    '@include "/etc/glewlwyd/glewlwyd-db.conf"',
    'database = { type = "sqlite3" path = "%s" };' % db,
)
with open(os.path.join(work, "glewlwyd.conf"), "w") as f:
    f.write(conf)

server = subprocess.Popen(
    ["glewlwyd", f"--config={os.path.join(work, 'glewlwyd.conf')}"],
    stdout=sys.stderr,
    stderr=sys.stderr,
)
# Its files go when this script ends, however it ends.
atexit.register(shutil.rmtree, work, True)


def stop(*_):
    # Asked to stop (the test's end). Not `server.wait()` here: the main thread may be
    # inside it, and Popen's wait lock is not reentrant.
    server.terminate()
    raise SystemExit(0)


signal.signal(signal.SIGTERM, stop)

jar = http.cookiejar.CookieJar()
api = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def call(method, path, body=None):
    req = urllib.request.Request(
        base + "api/" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with api.open(req, timeout=10) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"op.py: {method} {path}: HTTP {e.code}: {e.read()[:300]!r}")


for _ in range(200):
    try:
        urllib.request.urlopen(base + "api/config", timeout=1).read()
        break
    except OSError:
        if server.poll() is not None:
            sys.exit("op.py: glewlwyd exited")
        time.sleep(0.05)

# The package's admin user (init.sqlite3.sql: admin / password).
call("POST", "auth/", {"username": "admin", "password": "password"})

key = subprocess.run(
    ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    check=True, capture_output=True, text=True,
).stdout
cert = subprocess.run(
    ["openssl", "pkey", "-pubout"], input=key, check=True, capture_output=True, text=True
).stdout

scopes = ["profile", "email", "offline_access"]
for s in scopes:
    call("POST", "scope/", {
        "name": s, "display_name": s, "description": f"OpenID Connect scope {s}",
        "password_required": True, "password_max_age": 0, "scheme": {},
    })

# The user database backend keeps a groups property (the console's "data format").
users = json.loads(call("GET", "mod/user/database"))
users["parameters"]["data-format"]["groups"] = {
    "multiple": True, "read": True, "write": True, "profile-read": False, "profile-write": False,
}
call("PUT", "mod/user/database", users)
call("PUT", "mod/user/database/reset")  # the running instance takes the new format

issuer = base + "api/oidc"
params = console_defaults()
params.update({
    "iss": issuer,
    "key": key,
    "cert": cert,
    "allowed-scope": ["openid"] + scopes,
    "email-claim": "mandatory",
    "name-claim": "mandatory",
    # The console's default leaves PKCE off; PKCE_ALLOWED=1 is the administrator who
    # turns it on.
    "pkce-allowed": os.environ.get("PKCE_ALLOWED") == "1",
    "claims": [
        {"name": "preferred_username", "user-property": "username", "type": "string",
         "boolean-value-true": "", "boolean-value-false": "",
         "mandatory": True, "on-demand": False, "scope": []},
        {"name": "groups", "user-property": "groups", "type": "string",
         "boolean-value-true": "", "boolean-value-false": "",
         "mandatory": True, "on-demand": False, "scope": []},
    ],
    # The groups in the access token too (the console's "additional token values").
    "additional-parameters": [
        {"user-parameter": "groups", "token-parameter": "groups", "token-changed": False},
    ],
})
call("POST", "mod/plugin/", {
    "module": "oidc", "name": "oidc", "display_name": "OpenID Connect",
    "parameters": params, "enabled": True,
})

for username, name, groups in [("alice", "Alice Example", ["engineering", "admins"]),
                               ("bob", "Bob Example", [])]:
    call("POST", "user/", {
        "username": username, "password": f"{username}-password", "name": name,
        "email": f"{username}@example.com", "enabled": True,
        "scope": ["openid"] + scopes, "groups": groups,
    })

call("POST", "client/", {
    # A confidential client's secret is its password (what the console's client form
    # asks); `client_secret` is the key of client_secret_jwt.
    "client_id": env("CLIENT_ID"), "password": env("CLIENT_SECRET"),
    "name": "SSO app", "description": "", "confidential": True, "enabled": True,
    "redirect_uri": [env("REDIRECT_URI")], "authorization_type": ["code", "refresh_token"],
    # A confidential client takes no client authentication until its methods are ticked.
    "token_endpoint_auth_method": ["client_secret_post"],
    "scope": [],
})

urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=10).read()
print(json.dumps({"issuer": issuer}), flush=True)
sys.exit(server.wait())
