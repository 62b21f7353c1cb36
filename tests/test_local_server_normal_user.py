"""The local server as a normal (non-root) user: no service user, no ownership changes.

The suite usually runs as root, where the server runs as `mole-postgres`; this test
runs the same start/stop code as an unprivileged account, with the system's
Python 3.11 and this venv's packages (root's own Python is often unreadable to others).
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

from tooling.server.local_server import allow_traversal

REPO = Path(__file__).resolve().parent.parent
NORMAL_USER = "mole-tester"
SYSTEM_PYTHON = "/usr/bin/python3.11"

SCRIPT = """
import os, sys
from pathlib import Path
from tooling.server.local_server import LocalServer
from tooling.process import ProcessRunner
server = LocalServer(Path(sys.argv[1]), ProcessRunner())
assert server.service_user is None
server.start()
pid = int((server.pgdata / "postmaster.pid").read_text().split()[0])
print("server-uid", os.stat(f"/proc/{pid}").st_uid)
runner = ProcessRunner()
answer = runner.run([server.tool("psql"), "-X", "-A", "-t", "--dbname=postgres", "-c", "SELECT 6 * 7"],
                    env=server.client_environment(), capture=True)
print("answer", answer.stdout.strip())
print("stopped", server.stop())
print("running-after-stop", server.is_running())
"""


def normal_account() -> pwd.struct_passwd | None:
    """The account to run as: a dedicated one when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(NORMAL_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", NORMAL_USER], check=True)
        return pwd.getpwnam(NORMAL_USER)


def test_local_server_starts_and_stops_as_a_normal_user(server):
    assert Path(SYSTEM_PYTHON).exists(), f"this test needs {SYSTEM_PYTHON} (Debian's python3.11)"
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for path in (site_packages, REPO / "mole" / "tooling", REPO / "compose" / ".env"):
        allow_traversal(path)
    account = normal_account()
    identity = {}
    work = Path(tempfile.mkdtemp(prefix="mole-user-"))
    try:
        if account is not None:
            os.chown(work, account.pw_uid, account.pw_gid)
            identity = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        expected_uid = account.pw_uid if account is not None else os.geteuid()
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{REPO / 'mole'}:{site_packages}"}
        result = subprocess.run(
            [SYSTEM_PYTHON, "-c", SCRIPT, str(work / "data")],
            env=env, capture_output=True, text=True, timeout=120, **identity,
        )
        assert result.returncode == 0, result.stderr
        lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
        assert lines == {
            "server-uid": str(expected_uid),
            "answer": "42",
            "stopped": "True",
            "running-after-stop": "False",
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
