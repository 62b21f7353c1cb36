"""Mole's settings.

The database comes from the environment so that the same code runs inside the
Compose django container, against the embedded server, or against any server:
`DATABASE_URL` if set, otherwise libpq's own PG* variables. A password is never
read here from a URL that tooling wrote; libpq takes it from PGPASSWORD itself.
"""
from __future__ import annotations

import os
from pathlib import Path

from tooling.server.database_url import parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("MOLE_SECRET_KEY", "mole-development-only-key")
DEBUG = os.environ.get("MOLE_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    # Real Mole's database has django_site and easy_thumbnails' tables: these apps make them.
    "django.contrib.sites",
    "easy_thumbnails",
    "data_collection",
    "automation",
    "dbtools",
]

SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mole.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "data_collection.context_processors.opened_copy",
            ],
        },
    },
]

WSGI_APPLICATION = "mole.wsgi.application"


def database_from_environment(environ: os._Environ | dict) -> dict:
    """Build Django's DATABASES entry from DATABASE_URL, else from PG* variables."""
    url = environ.get("DATABASE_URL", "")
    if url:
        # libpq's parser, every parameter kept: the rest (sslmode, ...) go to libpq as OPTIONS.
        parameters = parse_database_url(url)
        return {
            "ENGINE": "django.contrib.gis.db.backends.postgis",
            "NAME": parameters.pop("dbname", "") or "mole",
            "USER": parameters.pop("user", ""),
            "PASSWORD": parameters.pop("password", ""),
            "HOST": parameters.pop("host", ""),
            "PORT": parameters.pop("port", ""),
            "OPTIONS": parameters,
        }
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": environ.get("PGDATABASE", "mole"),
        "USER": environ.get("PGUSER", ""),
        "PASSWORD": "",
        "HOST": environ.get("PGHOST", ""),
        "PORT": environ.get("PGPORT", ""),
    }


DATABASES = {"default": database_from_environment(os.environ)}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MOLE_MEDIA_ROOT", BASE_DIR / "media"))

# Set by `invoke open`: which bundle or backup this server shows, named in a banner on every page.
MOLE_OPENED = os.environ.get("MOLE_OPENED", "")

# Django's defaults, plus one line instead of a traceback for refused and missing pages.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors": {"()": "mole.log_filters.ClientErrorsWithoutTraceback"}},
    "loggers": {"django.request": {"filters": ["client_errors"]}},
}

# Real Mole's keys are integers (Django 3.2's AutoField); a bigint key would differ from its schema.
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Debian 12's GDAL is 3.6; Django asks for 3.9, which can block file and network access while
# parsing a spatial reference. Mole hands GDAL no spatial reference from its input: geometries
# reach Django as EWKB, read by GEOS, and the SRID (4326) is fixed by the models.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
