"""A minimal Django project serving django-scim2 at /scim/v2/, as its README describes.

Environment: SCIM_DB (sqlite file), SCIM_TOKEN (the bearer token), SCIM_NETLOC (host:port).
The user and group models are django-scim2's abstract mixins on Django's own models, the way the
package's documentation and tests use them; authentication is a bearer-token middleware placed
before django-scim2's auth check (the package leaves authentication to the project).
"""
import os

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = "scimcheck-real-servers-only-on-loopback"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_scim",
    "scimapp",
]
MIDDLEWARE = [
    "scimapp.auth.BearerTokenMiddleware",
    "django_scim.middleware.SCIMAuthCheckMiddleware",
]
ROOT_URLCONF = "urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SCIM_DB", os.path.join(BASE_DIR, "db.sqlite3")),
        # The dev server answers concurrent requests in threads; without these, sqlite's
        # "database is locked" makes a write fail now and then (a 500 that is ours, not the
        # package's). Django's sqlite notes recommend both.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
AUTH_USER_MODEL = "scimapp.User"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
SCIM_SERVICE_PROVIDER = {
    "NETLOC": os.environ.get("SCIM_NETLOC", "127.0.0.1"),
    "SCHEME": "http",
    "GROUP_MODEL": "scimapp.models.Group",
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a static bearer token",
        },
    ],
}
