"""Choosing a backend: `auto` takes Compose when its stack runs, else the local server."""
from __future__ import annotations

import shutil

from tooling.errors import BackendUnavailable
from tooling.errors import ToolingError
from tooling.process import ProcessRunner
from tooling.settings import BACKENDS
from tooling.settings import Settings

from .base import Backend
from .compose import ComposeBackend
from .host import LocalBackend
from .host import UrlBackend

__all__ = ["Backend", "ComposeBackend", "LocalBackend", "UrlBackend", "select_backend"]


def select_backend(settings: Settings, runner: ProcessRunner, name: str | None = None) -> Backend:
    """The backend `name` (default: the settings'), `auto` choosing Compose when its stack runs.
    Raises ToolingError for an unknown name, BackendUnavailable for a url that cannot be used."""
    chosen = name or settings.backend
    if chosen not in BACKENDS:
        raise ToolingError(f"unknown backend {chosen!r}: choose one of {', '.join(BACKENDS)}")
    if chosen == "auto":
        chosen = "compose" if compose_stack_running(settings, runner) else "local"
    if chosen == "local":
        return LocalBackend(runner, settings.database, settings.django_dir, settings.data_dir)
    if chosen == "url":
        return UrlBackend(runner, settings.database, settings.django_dir, settings.url)
    return ComposeBackend(runner, settings.database, settings.compose_file, settings.compose_user)


def compose_stack_running(settings: Settings, runner: ProcessRunner) -> bool:
    """True when Docker is installed and the Compose stack's services run."""
    if not (shutil.which("docker") or shutil.which("docker-compose")):
        return False
    try:
        backend = ComposeBackend(runner, settings.database, settings.compose_file, settings.compose_user)
        return backend.is_available()
    except BackendUnavailable:
        return False
