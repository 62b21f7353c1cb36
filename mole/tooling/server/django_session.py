"""One Django process for a whole run: `manage.py serve_commands` answering requests.

Starting Django with Mole's models and GeoDjango costs about a second; a legacy run needs a
dozen manage.py commands. A session starts `serve_commands` once, through the backend's own
transport (a local process, or `docker compose exec -T` of the django service), and sends it each
command as one JSON line `{"args": [...], "database": NAME}`; it answers with one JSON line
`{"status": int, "stdout": str, "stderr": str}`, what the same `manage.py ARGS` run on its own
would have given. The host side never imports Django: it only speaks this protocol.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import tempfile

from tooling.errors import CommandFailed
from tooling.process import Completed
from tooling.process import ProcessRunner
from tooling.process import last_lines

SERVE_COMMAND = "serve_commands"
# How long a session may take to finish its last command once its input is closed, in seconds.
CLOSE_WAIT_SECONDS = 30
# How long a session that stopped answering may take to exit by itself, in seconds.
DYING_WAIT_SECONDS = 5


class DjangoSession:
    """A started `manage.py serve_commands`; `run` sends one command, `close` ends it."""

    def __init__(self, runner: ProcessRunner, argv: list[str], env: dict[str, str], cwd) -> None:
        self.runner = runner
        self.argv = argv
        self.errors = tempfile.TemporaryFile()
        self.process: subprocess.Popen = runner.start_conversation(argv, env=env, cwd=cwd, errors=self.errors)

    def run(self, args: list[str], database: str) -> Completed:
        """Run `manage.py ARGS` against `database` in the session; its status and output.
        Raises CommandFailed (with the session's last error lines) when the session has died."""
        if self.runner.echo:
            shown = shlex.join(["manage.py", *args])
            print(f"[django session] PGDATABASE={database} {shown}", file=self.runner.out, flush=True)
        request = json.dumps({"args": args, "database": database}) + "\n"
        try:
            self.process.stdin.write(request.encode())
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        except BrokenPipeError:
            answer = b""
        if not answer:
            raise self.died()
        reply = json.loads(answer)
        return Completed(reply["status"], reply["stdout"], reply["stderr"])

    def died(self) -> CommandFailed:
        """The error for a session that stopped answering: its exit status and last error lines."""
        try:  # it may be exiting on its own: its status then says more than a kill's
            self.process.wait(timeout=DYING_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.errors.seek(0)
        detail = last_lines(self.errors.read().decode(errors="replace")) or "it stopped answering"
        return CommandFailed(self.argv, self.process.returncode, detail)

    def close(self) -> None:
        """End the session: closing its input ends it; one that does not end in time is killed."""
        close_quietly(self.process.stdin)
        try:
            self.process.wait(timeout=CLOSE_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
        self.release()

    def kill(self) -> None:
        """End the session at once (the run is failing or interrupted)."""
        self.process.kill()
        self.process.wait()
        self.release()

    def release(self) -> None:
        """Close what the session held open (safe to repeat)."""
        close_quietly(self.process.stdin)
        self.process.stdout.close()
        self.errors.close()


def close_quietly(pipe) -> None:
    """Close a pipe whose reader may have gone: unsent input no longer matters then."""
    try:
        pipe.close()
    except BrokenPipeError:
        pass
