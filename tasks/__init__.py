"""Mole's database tasks. `invoke --list` shows them; `invoke --help TASK` explains one.

Defaults live here once; override them in `invoke.yaml` (key `mole:`) or with
`INVOKE_MOLE_*` environment variables, e.g. `INVOKE_MOLE_BACKEND=compose`.
"""
from invoke import Collection

from . import backups
from . import database
from . import demo
from . import legacy
from . import viewing
from .common import CONFIG_DEFAULTS

ns = Collection()
for module in (database, backups, legacy, viewing, demo):
    for name in getattr(module, "__all__"):
        ns.add_task(getattr(module, name))
ns.configure({"mole": CONFIG_DEFAULTS})
