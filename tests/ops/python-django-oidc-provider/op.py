"""juanifioren's django-oidc-provider, set up as its documentation's quick start does: a
Django site with django.contrib.auth (Django's own admin login page is the login a
person meets), the provider's consent page, an RSA key from its `creatersakey` command,
and one confidential client registered for the app (response type code, client secret,
one redirect URI). The customer's additions are the usual two: OIDC_USERINFO maps a user
to the standard claims, and an ID-token hook puts the user's Django groups in the ID token
at `groups`. OIDC_IDTOKEN_INCLUDE_CLAIMS puts the scopes' claims there too.

Environment: PORT (0: a free one), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI.
Prints one JSON line, {"issuer": ...}, once it listens on 127.0.0.1.
"""

import json
import os
import shutil
import signal
import sys
import tempfile
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


def env(k):
    if not os.environ.get(k):
        sys.exit(f"op.py: {k} is not set")
    return os.environ[k]


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        print(self.address_string(), fmt % args, file=sys.stderr)


# The socket first: the issuer names its port, and Django's settings name the issuer.
def late_app(environ, start_response):
    return application(environ, start_response)


server = make_server("127.0.0.1", int(os.environ.get("PORT") or 0), late_app, Server, Quiet)
issuer = f"http://127.0.0.1:{server.server_port}/openid"
work = tempfile.mkdtemp(prefix="django-oidc-")
db = os.path.join(work, "db.sqlite3")
# Asked to stop (the test's end): the database goes with the process.
signal.signal(signal.SIGTERM, lambda *_: (shutil.rmtree(work, ignore_errors=True), sys.exit(0)))

from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY="ops-test-" + os.urandom(8).hex(),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    SITE_URL=f"http://127.0.0.1:{server.server_port}",
    LOGIN_URL="/accounts/login/",
    INSTALLED_APPS=[
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "oidc_provider",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db}},
    USE_TZ=True,
    OIDC_USERINFO=__name__ + ".userinfo",
    OIDC_IDTOKEN_INCLUDE_CLAIMS=True,
    OIDC_IDTOKEN_PROCESSING_HOOK=__name__ + ".groups_hook",
)

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import views as auth_views  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import include, path  # noqa: E402

# Django's admin login page is the login form (its template links the admin).
urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="admin/login.html")),
    path("openid/", include("oidc_provider.urls", namespace="oidc_provider")),
]


def userinfo(claims, user):
    claims["name"] = user.get_full_name()
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    claims["preferred_username"] = user.username
    claims["email"] = user.email
    claims["email_verified"] = True
    return claims


def groups_hook(id_token, user, **kwargs):
    id_token["groups"] = sorted(g.name for g in user.groups.all())
    return id_token


call_command("migrate", verbosity=0)
call_command("creatersakey")
staff = {"engineering": Group.objects.create(name="engineering"), "admins": Group.objects.create(name="admins")}
for username, first, groups in [("alice", "Alice", ["engineering", "admins"]), ("bob", "Bob", [])]:
    u = User.objects.create_user(username, f"{username}@example.com", f"{username}-password",
                                 first_name=first, last_name="Example")
    u.groups.set([staff[g] for g in groups])

from oidc_provider.models import Client, ResponseType  # noqa: E402

client = Client.objects.create(
    name="SSO app",
    client_type="confidential",
    client_id=env("CLIENT_ID"),
    client_secret=env("CLIENT_SECRET"),
    jwt_alg="RS256",
    redirect_uris=[env("REDIRECT_URI")],
)
client.response_types.add(ResponseType.objects.get(value="code"))

application = get_wsgi_application()
print(json.dumps({"issuer": issuer}), flush=True)
server.serve_forever()
