"""sso-harness: a mock OpenID Provider for testing single sign-on, from Python.

``MockIdp.start()`` runs the wheel's ``mock-idp`` on a random loopback port; ``idp.tenant()``
makes an isolated tenant; ``tenant.admin`` changes users, groups, faults and the clock;
``tenant.browser(rp_url).login("alice")`` logs a user in through your RP. The pytest
plugin gives each test a fresh tenant as the ``mock_idp`` fixture.
"""

from .admin import Admin, AdminError
from .browser import Browser, LoginError, Response
from .server import MockIdp, StartError, Tenant
from ._binaries import binary

__all__ = ["Admin", "AdminError", "Browser", "LoginError", "MockIdp", "Response",
           "StartError", "Tenant", "binary"]
