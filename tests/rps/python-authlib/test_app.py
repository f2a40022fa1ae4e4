"""The Authlib RP's lifecycle, tested the way a Python team would: pytest, the `mock_idp`
fixture of `pip install sso-harness`, a real authorization code flow through the app."""

import time

SYNC_DEADLINE_S = 5.0


def eventually(read, want, within=SYNC_DEADLINE_S):
    """Reads until `want(value)` holds, for at most `within` seconds; the last value."""
    end = time.monotonic() + within
    while True:
        value = read()
        if want(value) or time.monotonic() > end:
            return value
        time.sleep(0.1)


def test_login_shows_the_user_and_the_groups_permissions(mock_idp, app):
    browser = mock_idp.browser(app.url)
    browser.login("bob")
    me = browser.get_json("/me")
    assert me["username"] == "bob"
    assert me["permissions"] == ["read", "write"]


def test_a_group_change_at_the_idp_reaches_the_app(mock_idp, app):
    browser = mock_idp.browser(app.url)
    browser.login("alice")
    assert browser.get_json("/me")["permissions"] == ["read"]
    mock_idp.admin.set_groups("alice", ["admins"])
    me = eventually(lambda: browser.get_json("/me"), lambda m: m["permissions"] == ["read", "write"])
    assert me["permissions"] == ["read", "write"]
    refreshes = [e for e in mock_idp.admin.journal(user="alice") if e.get("grant_type") == "refresh_token"]
    assert refreshes, "the change came without a refresh"


def test_a_deleted_user_loses_access(mock_idp, app):
    browser = mock_idp.browser(app.url)
    browser.login("alice")
    assert browser.get("/me").status == 200
    mock_idp.admin.delete_user("alice")
    status = eventually(lambda: browser.get("/me").status, lambda s: s == 401)
    assert status == 401


def test_an_idp_outage_is_not_a_revocation(mock_idp, app):
    browser = mock_idp.browser(app.url)
    browser.login("alice")
    fault = mock_idp.admin.arm_fault("http_status", status=503, user="alice",
                                     grant_type="refresh_token", times=2)
    failed = eventually(
        lambda: [e for e in mock_idp.admin.journal(user="alice") if e["status"] == 503],
        lambda f: len(f) >= 1,
    )
    assert failed, "the app never refreshed during the outage"
    assert browser.get("/me").status == 200, "a 503 ended the session"
    mock_idp.admin.clear_faults(fault)
    mock_idp.admin.set_groups("alice", [])
    me = eventually(lambda: browser.get_json("/me"), lambda m: m["permissions"] == [])
    assert me["permissions"] == [], "the sync did not recover after the outage"
