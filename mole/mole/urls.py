"""Mole's URLs: the admin is the experiment browser for now."""
from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
