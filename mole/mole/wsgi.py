"""WSGI entry point, used by the Compose django service."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mole.settings")
application = get_wsgi_application()
