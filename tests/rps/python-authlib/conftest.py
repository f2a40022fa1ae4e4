"""This RP's own pytest tests run against the mock IdP of the `sso-harness` wheel: the
plugin's `mock_idp` fixture gives each test a fresh tenant, and `app` starts this Flask app
pointed at it (a free port, a short sync interval)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
GROUP_MAP = {"analysts": ["read"], "admins": ["read", "write"]}
SYNC_S = 0.3


class App:
    def __init__(self, url, process, log):
        self.url, self.process, self.log = url, process, log


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app(mock_idp, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ISSUER": mock_idp.issuer,
        "CLIENT_ID": mock_idp.client_id,
        "CLIENT_SECRET": mock_idp.client_secret,
        "BASE_URL": url,
        "PORT": str(port),
        "SYNC_MODE": "strict",
        "GROUP_MAP": json.dumps(GROUP_MAP),
        "SYNC_INTERVAL_S": str(SYNC_S),
        "IDP_TIMEOUT_S": "2",
    }
    log = open(tmp_path / "app.log", "w+")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "app.py")], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/me", timeout=2)
        except urllib.error.HTTPError:
            break  # it answers (401: no session)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the app did not come up: {log.read()[-2000:]}")
            time.sleep(0.05)
    yield App(url, proc, log)
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
