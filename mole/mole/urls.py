"""Mole's URLs: the experiment overview at the root, the admin for every record."""
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import path

from data_collection.views import experiment_overview

urlpatterns = [
    path("", experiment_overview, name="experiment-overview"),
    path("admin/", admin.site.urls),
    # Media (a bundle's mole_media/ under `invoke open`) is served only by the development server.
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
