"""Tell every page when it shows an opened copy (a bundle or a backup), not the live database."""
from django.conf import settings


def opened_copy(request):
    return {"opened_copy": settings.MOLE_OPENED}
