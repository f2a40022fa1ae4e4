"""``mock-idp serve`` in a subprocess on a random loopback port, and its tenants."""

from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import threading
import uuid
from typing import Any, Dict, List, Optional

from ._binaries import binary
from .admin import Admin
from .browser import Browser


class StartError(Exception):
    """mock-idp did not come up; the message carries what it printed."""


class Tenant:
    """One tenant of the server: its issuer, its admin API, the client an RP uses."""

    def __init__(self, server: "MockIdp", name: Optional[str], issuer: str,
                 client_id: Optional[str] = "demo-rp",
                 client_secret: Optional[str] = "demo-secret") -> None:
        self.server = server
        self.name = name
        self.issuer = issuer
        self.admin = Admin(issuer, server.admin_token)
        self.client_id = client_id
        self.client_secret = client_secret

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def browser(self, rp_url: str) -> Browser:
        """A new browser in front of the RP at ``rp_url`` (its own cookies)."""
        return Browser(rp_url, self.server.origin)

    def journal_text(self, limit: int = 200) -> str:
        """The journal's last entries, one line each, for a failing test's report."""
        lines = []
        for e in self.admin.journal()[-limit:]:
            what = f"{e.get('method')} {e.get('endpoint')}"
            who = " ".join(f"{k}={e[k]}" for k in ("client_id", "user", "grant_type") if e.get(k))
            err = f" {e['error']}: {e.get('error_description') or ''}" if e.get("error") else ""
            lints = f" lints={','.join(e['lints'])}" if e.get("lints") else ""
            faults = f" faults={e['faults']}" if e.get("faults") else ""
            lines.append(f"#{e.get('seq')} {what} {who} -> {e.get('status')}{err}{lints}{faults}")
        return "\n".join(lines) or "(empty: no protocol request reached the tenant)"

    def delete(self) -> None:
        if self.name is not None:
            self.server.admin.delete_tenant(self.name)


class MockIdp:
    """A running ``mock-idp serve``. Use ``MockIdp.start()`` (or ``with MockIdp.start() as
    idp:``); ``stop()`` ends it."""

    def __init__(self, process: subprocess.Popen, issuer: str, addr: str, log_path: str,
                 admin_token: Optional[str]) -> None:
        self.process = process
        self.issuer = issuer
        self.addr = addr
        self.origin = "http://" + addr
        self.log_path = log_path
        self.admin_token = admin_token
        self.admin = Admin(issuer, admin_token)
        self.default = Tenant(self, None, issuer)

    @classmethod
    def start(cls, config: Optional[str] = None, profile: Optional[str] = None,
              args: Optional[List[str]] = None, ready_timeout: float = 30.0,
              env: Optional[Dict[str, str]] = None) -> "MockIdp":
        """Starts ``mock-idp serve`` on 127.0.0.1 and a free port (the built-in demo tenant,
        or ``config``, shaped like ``profile``) and waits until it serves."""
        cmd = [binary("mock-idp"), "serve", "--addr", "127.0.0.1:0"]
        if config:
            cmd += ["--config", config]
        if profile:
            cmd += ["--profile", profile]
        cmd += list(args or [])
        log = tempfile.NamedTemporaryFile("w+", prefix="mock-idp-", suffix=".log", delete=False)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                env={**os.environ, **(env or {})})
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        try:
            line = lines.get(timeout=ready_timeout)
        except queue.Empty:
            line = None
        fields = dict(f.split("=", 1) for f in (line or "").split() if "=" in f)
        if not line or not line.startswith("mock-idp ready") or "issuer" not in fields:
            proc.kill()
            proc.wait()
            log.seek(0)
            raise StartError(f"{' '.join(cmd)} did not print its ready line within "
                             f"{ready_timeout} s (exit {proc.returncode}): {log.read()[-2000:]}")
        return cls(proc, fields["issuer"], fields["addr"], log.name, None)

    def tenant(self, name: Optional[str] = None, config: Optional[Dict[str, Any]] = None,
               profile: Optional[str] = None, keys: Optional[str] = None) -> Tenant:
        """A new tenant (the demo tenant's users and clients unless ``config``), at
        ``<origin>/t/<name>``: isolated users, keys, clock, faults and journal.
        ``keys="shared"``: the server's one RSA key under kids of the tenant's own, so
        creation never waits for a key to be made (see the book, "Tenants")."""
        name = name or "t-" + uuid.uuid4().hex[:12]
        made = self.admin.create_tenant(name, config, profile, keys)
        # The demo tenant's client, or the config's first (a public client has no secret).
        client_id, secret = "demo-rp", "demo-secret"
        if config and config.get("clients"):
            client_id = config["clients"][0].get("id")
            secret = config["clients"][0].get("secret")
        return Tenant(self, name, made["issuer"], client_id, secret)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "MockIdp":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
