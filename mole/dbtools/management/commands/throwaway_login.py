"""A login for one `invoke open` session: staff that may only view, removed when the session ends.

The password is made here and printed once on stdout for the caller to show;
only its hash is stored, in the opened copy (never the live database or a bundle).
"""
import json
import secrets

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand
from django.db import transaction

USERNAME_PREFIX = "mole-open-"
VIEWABLE_APPS = ("data_collection",)


class Command(BaseCommand):
    """`manage.py throwaway_login create|remove`: a superuser for one `open` session, or none."""

    help = "Create a view-only admin login for an opened copy (printed as JSON), or remove such logins."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "remove"])

    @transaction.atomic
    def handle(self, *args, action, **options):
        # Also removes logins left by a session that was killed before it could clean up.
        remove_throwaway_logins()
        if action == "create":
            username, password = create_throwaway_login()
            self.stdout.write(json.dumps({"username": username, "password": password}))


def create_throwaway_login() -> tuple[str, str]:
    """A new superuser with a random name and password; returns both (printed as JSON)."""
    for app_config in apps.get_app_configs():
        # A migrated legacy dump may lack permission rows for newer models.
        create_permissions(app_config, verbosity=0)
    username = f"{USERNAME_PREFIX}{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(15)
    user = User.objects.create_user(username, password=password, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=VIEWABLE_APPS, codename__startswith="view_")
    )
    return username, password


def remove_throwaway_logins() -> None:
    """Delete every login `create_throwaway_login` made; returns how many."""
    users = User.objects.filter(username__startswith=USERNAME_PREFIX)
    user_ids = {str(pk) for pk in users.values_list("pk", flat=True)}
    if not user_ids:
        return
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") in user_ids:
            session.delete()
    users.delete()
