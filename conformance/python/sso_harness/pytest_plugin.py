"""The pytest plugin (entry point ``pytest11``), loaded once ``sso-harness`` is installed.

Fixtures:

- ``mock_idp``: a fresh tenant of a mock IdP for the test (the demo tenant's client
  ``demo-rp`` / ``demo-secret`` and users alice, bob and carol), deleted afterwards. A
  failing test's report carries the tenant's journal (section "mock-idp journal").
- ``mock_idp_server``: the ``mock-idp serve`` behind it, started once per session on a
  random loopback port (``--mock-idp-config`` / ``--mock-idp-profile`` shape it).

``pytest --conformance rp.toml`` runs the conformance suite against the RP the file
describes (``conformance run``; ``--conformance-args "..."`` passes more options) and
reports one test per scenario and sync mode: a pass passes, a fail fails with the
scenario's reason, a skip skips, a warning passes with a pytest warning, an expected
failure (``--expected-failures``) is an xfail, and an error (the suite could not judge)
is an error. The run happens at collection, once; reports land in ``--conformance-report``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
import warnings
from typing import Any, Dict, Iterator, List

import pytest

from ._binaries import binary
from .server import MockIdp, Tenant


def pytest_addoption(parser: Any) -> None:
    g = parser.getgroup("sso-harness")
    g.addoption("--mock-idp-config", default=None, help="config file of the mock IdP fixture")
    g.addoption("--mock-idp-profile", default=None,
                help="provider profile of the mock IdP fixture (keycloak, entra, okta, ...)")
    g.addoption("--mock-idp-keys", default="own", choices=["own", "shared"],
                help="each test's tenant signs with keys of its own (default) or with the "
                     "server's shared RSA key under its own kids (never waits for a key)")
    g.addoption("--conformance", default=None, metavar="RP_TOML",
                help="run the conformance suite against this RP: a test per scenario and mode")
    g.addoption("--conformance-args", default="",
                help="more options for `conformance run` (one string, shell-quoted)")
    g.addoption("--conformance-report", default=None, metavar="DIR",
                help="where the suite's reports go (default: a temporary folder)")


@pytest.fixture(scope="session")
def mock_idp_server(pytestconfig: Any) -> Iterator[MockIdp]:
    idp = MockIdp.start(config=pytestconfig.getoption("--mock-idp-config"),
                        profile=pytestconfig.getoption("--mock-idp-profile"))
    try:
        yield idp
    finally:
        idp.stop()


@pytest.fixture
def mock_idp(mock_idp_server: MockIdp, pytestconfig: Any) -> Iterator[Tenant]:
    tenant = mock_idp_server.tenant(keys=pytestconfig.getoption("--mock-idp-keys"))
    try:
        yield tenant
    finally:
        tenant.delete()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    tenant = getattr(item, "funcargs", {}).get("mock_idp")
    if report.failed and report.when == "call" and isinstance(tenant, Tenant):
        try:
            text = tenant.journal_text()
        except Exception as e:  # the IdP is gone: say so rather than hide the test's failure
            text = f"(the journal could not be read: {e})"
        report.sections.append(("mock-idp journal", text))


# `pytest --conformance rp.toml`.

def pytest_collection_modifyitems(session: Any, config: Any, items: List[Any]) -> None:
    rp = config.getoption("--conformance")
    if not rp:
        return
    report = _run_suite(config, rp)
    for run in report["runs"]:
        mode = run["sync_mode"] if not run.get("idp_profile") else f"{run['idp_profile']}/{run['sync_mode']}"
        for r in run["results"]:
            items.append(ScenarioItem.from_parent(session, name=f"{r['id']}[{mode}]", result=r,
                                                  rp_exited=run.get("rp_exited")))


def _run_suite(config: Any, rp: str) -> Dict[str, Any]:
    out = config.getoption("--conformance-report") or tempfile.mkdtemp(prefix="conformance-")
    cmd = [binary("conformance"), "run", "--rp", rp, "--report", out, "--format", "json"]
    cmd += shlex.split(config.getoption("--conformance-args"))
    done = subprocess.run(cmd, capture_output=True, text=True)
    path = os.path.join(out, "report.json")
    # Exit 1 is a run with failures; anything else without a report is a broken run.
    if done.returncode not in (0, 1) or not os.path.exists(path):
        raise pytest.UsageError(
            f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-4000:]}"
        )
    with open(path) as f:
        return json.load(f)


class ScenarioError(Exception):
    """The suite could not judge the scenario."""


class ScenarioItem(pytest.Item):
    """One scenario in one sync mode, as the suite judged it."""

    def __init__(self, *, result: Dict[str, Any], rp_exited: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result = result
        self.rp_exited = rp_exited

    def runtest(self) -> None:
        r = self.result
        verdict, reason = r["verdict"], r["reason"]
        if r.get("expected_failure"):
            pytest.xfail(f"expected failure: {verdict}: {reason}")
        if verdict == "pass":
            return
        if verdict == "warn":
            warnings.warn(f"{r['id']}: {reason}")
            return
        if verdict == "skip":
            pytest.skip(reason)
        if verdict == "error":
            raise ScenarioError(reason + (f" (the RP exited: {self.rp_exited})" if self.rp_exited else ""))
        pytest.fail(f"{r['id']}: {reason}\nrequirement: {r['requirement']}", pytrace=False)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioError):
            return f"the suite could not judge {self.result['id']}: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> Any:
        return self.path, None, f"conformance {self.name}"
