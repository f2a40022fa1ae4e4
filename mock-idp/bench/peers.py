#!/usr/bin/env python3
"""mock-idp side by side with the mocks users would pick instead, in one run.

Each server runs alone on the machine in turn and gets the same wrk loads (discovery,
JWKS, client_credentials token endpoint); start-up (spawn -> first discovery 200) and RSS
(ready, and after a long token load) are read the same way for each. A bare hyper server
answering mock-idp's own discovery and JWKS bytes is the floor for the static paths,
`openssl speed -multi N rsa2048` the floor for the token endpoint. Ratios are what to
read: the machine is shared and noisy, the absolute numbers are this machine's only.

Run by peers.sh (which builds and installs what this needs).
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "fixtures")
TOKEN_BODY = "grant_type=client_credentials&scope=api&client_id=demo-rp&client_secret=demo-secret"


def mock_idp_config(tmp):
    """The demo tenant with client_credentials for demo-rp (keys by absolute path)."""
    with open(os.path.join(FIXTURES, "idp.toml")) as f:
        text = f.read()
    text = text.replace('pem_file = "keys/', f'pem_file = "{FIXTURES}/keys/')
    text = text.replace(
        'grant_types = ["authorization_code", "refresh_token"]',
        'grant_types = ["authorization_code", "refresh_token", "client_credentials"]',
    )
    path = os.path.join(tmp, "idp.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


class Server:
    """A spawned server, ready once it printed its address."""

    def __init__(self, name, cmd, cwd=None):
        self.name = name
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        line = self.proc.stdout.readline()
        m = re.search(r"addr=([\d.]+):(\d+)", line) or re.search(r"issuer=http://([\d.]+):(\d+)", line)
        if not m:
            self.stop()
            sys.exit(f"{name}: no ready line, got {line!r}")
        self.host, self.port = m.group(1), int(m.group(2))
        status = self.get("/.well-known/openid-configuration")[0]
        self.startup_ms = (time.perf_counter() - start) * 1000
        if status != 200:
            self.stop()
            sys.exit(f"{name}: discovery answered {status}")

    def url(self, path):
        return f"http://{self.host}:{self.port}{path}"

    def get(self, path):
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def post(self, path, body):
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        c.request("POST", path, body, {"content-type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, out

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wrk(url, seconds, connections, script=None):
    """Requests/s and the count of non-2xx answers."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url]
    if script:
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return rps, total, int(bad.group(1)) if bad else 0, errors.group(1) if errors else None


def openssl_floor(cores):
    """RSA-2048 signatures/s with every core, by openssl."""
    out = subprocess.run(
        ["openssl", "speed", "-multi", str(cores), "-seconds", "5", "rsa2048"],
        capture_output=True, text=True, check=True,
    ).stdout
    for line in out.splitlines():
        # "rsa 2048 bits 0.000370s 0.000011s   2701.7  89874.6"
        if line.startswith("rsa 2048 bits") or line.startswith("rsa  2048 bits"):
            return float(line.split()[5])
    sys.exit(f"openssl speed: no rsa 2048 line in {out!r}")


def measure(name, cmd, args, token_script, tokens=True, cwd=None):
    """Every load against one server, alone on the machine."""
    startups = []
    for _ in range(args.startups):
        s = Server(name, cmd, cwd)
        startups.append(s.startup_ms)
        s.stop()
    s = Server(name, cmd, cwd)
    row = {"startup_ms": statistics.median(startups), "rss_ready": s.rss_mb()}
    try:
        _, jwks_body = s.get("/jwks")
        row["discovery"] = wrk(s.url("/.well-known/openid-configuration"), args.seconds, 32)
        row["jwks"] = wrk(s.url("/jwks"), args.seconds, 32)
        if tokens:
            status, body = s.post("/token", TOKEN_BODY)
            if status != 200:
                sys.exit(f"{name}: token endpoint answered {status}: {body[:300]!r}")
            # One long load: its rate is the token endpoint's throughput (steadier than a
            # short run), its count what the RSS below was left by.
            load = wrk(s.url("/token"), args.token_load, 8, token_script)
            if load[2] or load[3]:
                sys.exit(f"{name}: the token load had failures: {load}")
            row["token"] = load
            row["issued"] = load[1]
            row["rss_after_load"] = s.rss_mb()
            time.sleep(1)
            row["rss_settled"] = s.rss_mb()
        row["jwks_bytes"] = len(jwks_body)
    finally:
        s.stop()
    return row


def tenants(args, mock_idp_cmd):
    """A fresh provider per test, created → its first discovery 200, from one Node client:
    mock-idp's tenants (own keys, shared keys) against a new server of each peer."""
    script = os.path.join(args.peers, "tenants.mjs")

    def run(which, *more):
        out = subprocess.run(["node", script, which, str(args.tenants), *more], cwd=args.peers,
                             capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            sys.exit(f"tenants.mjs {which}: {out.stderr[-2000:]}")
        ms = sorted(json.loads(out.stdout.strip().splitlines()[-1])["ms"])
        return statistics.median(ms), ms[len(ms) * 9 // 10]

    rows = {}
    for keys in ("own", "shared"):
        s = Server("mock-idp", mock_idp_cmd)
        try:
            rows[f'mock-idp tenant, "keys": "{keys}"'] = run("mock-idp", s.url(""), keys)
        finally:
            s.stop()
    for peer in ("oauth2-mock-server", "oidc-provider"):
        print(f"new {peer} servers…", file=sys.stderr)
        rows[f"new {peer} server"] = run(peer)
    return rows


def print_tenants(rows, n):
    best_peer = min(v[0] for k, v in rows.items() if not k.startswith("mock-idp"))
    print(f"\nA fresh provider per test, created → its first discovery 200, {n} in a row from one "
          f"Node client (`bench/tenants.mjs`):\n")
    print("| provider | median, ms | p90, ms | best peer ÷ this (median) |")
    print("|---|---|---|---|")
    for name, (median, p90) in rows.items():
        print(f"| {name} | {median:.2f} | {p90:.2f} | {best_peer / median:.1f}× |")


def fmt_rps(r):
    rps, _, bad, errors = r
    note = f" ({bad} non-2xx)" if bad else ""
    note += f" (socket errors: {errors})" if errors else ""
    return f"{rps:,.0f}{note}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=int, default=10, help="each throughput load")
    p.add_argument("--token-load", type=int, default=60, help="the token load before RSS is read")
    p.add_argument("--startups", type=int, default=10, help="start-ups measured per server")
    p.add_argument("--mock-idp", required=True)
    p.add_argument("--bare", required=True)
    p.add_argument("--peers", required=True, help="directory with the peers' scripts and node_modules")
    p.add_argument("--tenants", type=int, default=50, help="fresh providers created per server")
    p.add_argument("--only", choices=["tenants"], help="measure only this (tenants needs no wrk)")
    args = p.parse_args()

    cores = os.cpu_count() or 1
    tmp = tempfile.mkdtemp(prefix="mock-idp-peers-")
    script = os.path.join(tmp, "token.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f'wrk.body = "{TOKEN_BODY}"\n')
        f.write('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')

    node = ["node"]
    mock_idp_cmd = [args.mock_idp, "serve", "--addr", "127.0.0.1:0", "--config", mock_idp_config(tmp)]
    if args.only == "tenants":
        print_tenants(tenants(args, mock_idp_cmd), args.tenants)
        return
    servers = {
        "mock-idp": (mock_idp_cmd, None),
        "oauth2-mock-server 9.3.0": (node + [os.path.join(args.peers, "oauth2-mock-server.mjs")], args.peers),
        "oidc-provider 9.13.3": (node + [os.path.join(args.peers, "oidc-provider.mjs")], args.peers),
    }
    rows = {}
    for name, (cmd, cwd) in servers.items():
        print(f"measuring {name}…", file=sys.stderr)
        rows[name] = measure(name, cmd, args, script, cwd=cwd)

    # The floor for the static paths: mock-idp's own bytes from a bare hyper server.
    idp = Server("mock-idp", servers["mock-idp"][0])
    disc, jwks = idp.get("/.well-known/openid-configuration")[1], idp.get("/jwks")[1]
    idp.stop()
    for fname, data in (("discovery.json", disc), ("jwks.json", jwks)):
        with open(os.path.join(tmp, fname), "wb") as f:
            f.write(data)
    print("measuring the bare hyper server…", file=sys.stderr)
    bare_cmd = [args.bare, os.path.join(tmp, "discovery.json"), os.path.join(tmp, "jwks.json")]
    rows["bare hyper"] = measure("bare hyper", bare_cmd, args, script, tokens=False)
    # The floor ratio is the one most moved by a noisy neighbour: measure mock-idp and the
    # bare server in alternation, three rounds, and compare medians.
    print("mock-idp and the bare server in alternation…", file=sys.stderr)
    a, b = Server("mock-idp", servers["mock-idp"][0]), Server("bare hyper", bare_cmd)
    try:
        for path, key in (("/.well-known/openid-configuration", "discovery"), ("/jwks", "jwks")):
            runs = {"mock-idp": [], "bare hyper": []}
            for _ in range(3):
                for srv in (a, b):
                    runs[srv.name].append(wrk(srv.url(path), args.seconds, 32))
            for name, rs in runs.items():
                rps = statistics.median(r[0] for r in rs)
                rows[name][key] = (rps, sum(r[1] for r in rs), sum(r[2] for r in rs), None)
    finally:
        a.stop()
        b.stop()
    print("measuring openssl…", file=sys.stderr)
    floor = openssl_floor(cores)

    me = rows["mock-idp"]
    peers = [n for n in rows if n not in ("mock-idp", "bare hyper")]
    names = ["mock-idp"] + peers + ["bare hyper"]

    def best(key, higher=True):
        vals = [(rows[n][key][0] if isinstance(rows[n][key], tuple) else rows[n][key]) for n in peers]
        return max(vals) if higher else min(vals)

    def val(n, key):
        v = rows[n].get(key)
        return v[0] if isinstance(v, tuple) else v

    print(f"\n{time.strftime('%Y-%m-%d')}, {cores} cores, wrk -t2 (client and server share the cores); "
          f"throughput loads {args.seconds} s each, token load {args.token_load} s\n")
    print("| measure | " + " | ".join(names) + " | mock-idp ÷ best peer | mock-idp ÷ floor |")
    print("|---" * (len(names) + 3) + "|")

    def line(label, key, unit_fmt, higher=True, floor_value=None):
        cells = []
        for n in names:
            v = rows[n].get(key)
            if v is None:
                cells.append("–")
            elif isinstance(v, tuple):
                cells.append(fmt_rps(v))
            else:
                cells.append(unit_fmt.format(v))
        b = best(key, higher)
        ratio = val("mock-idp", key) / b if higher else b / val("mock-idp", key)
        fl = f"{val('mock-idp', key) / floor_value:.2f}" if floor_value else "–"
        word = "×" if higher else "× (lower is better: best peer ÷ mock-idp)"
        print(f"| {label} | " + " | ".join(cells) + f" | {ratio:.2f}{word} | {fl} |")

    line("start-up, spawn → first discovery 200, ms (median)", "startup_ms", "{:.1f}", higher=False)
    line("RSS ready, MB", "rss_ready", "{:.1f}", higher=False)
    line("discovery req/s (32 connections; mock-idp and bare: median of 3 alternated)", "discovery", "", floor_value=val("bare hyper", "discovery"))
    line("JWKS req/s (32 connections; likewise)", "jwks", "", floor_value=val("bare hyper", "jwks"))
    line(f"token endpoint, client_credentials + RS256 JWT, req/s (8 connections, {args.token_load} s)", "token", "", floor_value=floor)
    line(f"token load: tokens issued in {args.token_load} s", "issued", "{:,}")
    line("RSS right after that load, MB", "rss_after_load", "{:.1f}", higher=False)
    print(f"\nFloors: bare hyper (same runtime, mock-idp's bytes) for discovery and JWKS; "
          f"`openssl speed -multi {cores} rsa2048`: {floor:,.0f} RSA-2048 signatures/s for the token endpoint.")
    print(json.dumps({"rows": {n: {k: (v[0] if isinstance(v, tuple) else v) for k, v in r.items()} for n, r in rows.items()},
                      "openssl_sign_per_s": floor}), file=open(os.path.join(tmp, "result.json"), "w"))
    print("measuring a fresh provider per test…", file=sys.stderr)
    print_tenants(tenants(args, mock_idp_cmd), args.tenants)
    print(f"(raw figures: {tmp}/result.json)")


if __name__ == "__main__":
    main()
