"""The one place that starts child processes.

Every command is an argv list (never a shell string). Dry runs print the
exact command, with its redirections, instead of running it; environment
values that are secrets are never printed.
"""
from __future__ import annotations

import ctypes
import logging
import os
import pwd
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import IO
from typing import Callable
from typing import Iterable
from typing import Iterator

from tooling.errors import CommandFailed

logger = logging.getLogger(__name__)

# prctl(2) option: the signal a child gets when its parent dies (Linux only).
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

SECRET_VARIABLES = frozenset({"PGPASSWORD", "DATABASE_URL", "MOLE_SECRET_KEY"})
ERROR_LINE_CHARS = 300


@dataclass
class Completed:
    """What a finished command left: its exit status and anything captured."""

    returncode: int
    stdout: str = ""
    stderr: str = ""


@dataclass
class ProcessRunner:
    """Runs argv lists, or with `dry` only prints them."""

    dry: bool = False
    echo: bool = False
    out: IO[str] = field(default_factory=lambda: sys.stdout)

    def describe(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdin_path: Path | None = None,
        stdout_path: Path | None = None,
    ) -> str:
        """The command as a person would type it, secrets left out."""
        shown_env = [
            f"{name}={shlex.quote(value)}"
            for name, value in sorted((env or {}).items())
            if name not in SECRET_VARIABLES
        ]
        text = shlex.join(argv)
        if shown_env:
            text = " ".join(shown_env) + " " + text
        if stdin_path is not None:
            text += f" < {shlex.quote(str(stdin_path))}"
        if stdout_path is not None:
            text += f" > {shlex.quote(str(stdout_path))}"
        if cwd is not None:
            text = f"cd {shlex.quote(str(cwd))} && {text}"
        return text

    def run(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        capture: bool = False,
        stdin: IO[bytes] | None = None,
        stdin_chunks: Iterable[bytes] | None = None,
        stdout: IO[bytes] | None = None,
        stdin_path: Path | None = None,
        stdout_path: Path | None = None,
        check: bool = True,
        user: str | None = None,
        probe: bool = False,
    ) -> Completed:
        """Run `argv`; `env` is added to this process's environment.

        `stdin`/`stdout` are open binary files, streamed by the OS and never
        read into memory here; `stdin_path`/`stdout_path` only name them for
        the dry-run and echo text. `stdin_chunks` is fed to the command piece
        by piece (for input that is decompressed or filtered on the way).
        Without `capture` and `stdout`, output goes to the terminal. A `probe`
        only looks (is the server up? which Compose?): it runs even in a dry
        run, and is not echoed.
        """
        text = self.describe(argv, env=env, cwd=cwd, stdin_path=stdin_path, stdout_path=stdout_path)
        if self.dry and not probe:
            print(text, file=self.out, flush=True)
            return Completed(0)
        if self.echo and not probe:
            print(text, file=self.out, flush=True)
        logger.debug("running %s", text)
        full_env = {**os.environ, **(env or {})}
        if stdout is not None:
            stdout_target = stdout
        elif capture:
            stdout_target = subprocess.PIPE
        else:
            stdout_target = None
        if stdin_chunks is not None:
            stdin_source = subprocess.PIPE
        else:
            stdin_source = stdin if stdin is not None else subprocess.DEVNULL
        identity = {}
        if user is not None:
            # Drop root's groups too: with gid 0 left, root-owned folders deny by their group bits.
            identity = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
        try:
            process = subprocess.Popen(
                argv,
                env=full_env,
                cwd=cwd,
                stdin=stdin_source,
                stdout=stdout_target,
                stderr=subprocess.PIPE,
                preexec_fn=die_with_parent,
                **identity,
            )
        except FileNotFoundError as error:
            if not check:
                return Completed(127, "", f"{argv[0]} not found")
            raise CommandFailed(argv, 127, f"{argv[0]} not found") from error
        with process:
            try:
                if stdin_chunks is None:
                    out_bytes, err_bytes = process.communicate()
                else:
                    out_bytes, err_bytes = feed(process, stdin_chunks)
            except BaseException:
                # Interrupted (Ctrl-C, SIGTERM): end the child too, or leaving the `with` waits for it.
                process.kill()
                raise
        stderr = err_bytes.decode(errors="replace")
        captured = out_bytes.decode(errors="replace") if capture and out_bytes else ""
        if stderr and not capture and process.returncode == 0:
            sys.stderr.write(stderr)
        if check and process.returncode != 0:
            raise CommandFailed(argv, process.returncode, last_lines(stderr))
        return Completed(process.returncode, captured, stderr)


    @contextmanager
    def output_stream(
        self, argv: list[str], *, env: dict[str, str] | None = None, stdin: IO[bytes]
    ) -> Iterator[IO[bytes]]:
        """Run `argv` reading the open file `stdin`; yield its standard output to read as it comes.

        Raises CommandFailed when the command fails; a reader that stops early ends it.
        """
        text = self.describe(argv, env=env)
        if self.echo:
            print(text, file=self.out, flush=True)
        logger.debug("streaming from %s", text)
        try:
            process = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdin=stdin,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       preexec_fn=die_with_parent)
        except FileNotFoundError as error:
            raise CommandFailed(argv, 127, f"{argv[0]} not found") from error
        with output_stream_of(process, argv) as stream:
            yield stream

    @contextmanager
    def background(
        self, argv: list[str], *, env: dict[str, str] | None = None, stdout: IO[bytes],
        stdout_path: Path | None = None,
    ) -> Iterator[Callable[[], Completed]]:
        """Run `argv` with its output going to the open file `stdout` while the block runs; the
        block calls the `wait` it gets for the result (which raises CommandFailed when the command
        failed). A block left without waiting (an error, Ctrl-C) ends the command. In a dry run
        the command is printed and `wait` returns at once."""
        text = self.describe(argv, env=env, stdout_path=stdout_path)
        if self.dry or self.echo:
            print(text, file=self.out, flush=True)
        if self.dry:
            yield lambda: Completed(0)
            return
        logger.debug("running in the background %s", text)
        # Its messages go to a file: a pipe nobody reads until the end could fill up and stall it.
        with tempfile.TemporaryFile() as errors:
            try:
                process = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                                           stdout=stdout, stderr=errors, preexec_fn=die_with_parent)
            except FileNotFoundError as error:
                raise CommandFailed(argv, 127, f"{argv[0]} not found") from error

            def wait() -> Completed:
                process.wait()
                errors.seek(0)
                stderr = errors.read().decode(errors="replace")
                if process.returncode != 0:
                    raise CommandFailed(argv, process.returncode, last_lines(stderr))
                return Completed(process.returncode, "", stderr)

            try:
                yield wait
            finally:
                if process.poll() is None:
                    process.kill()
                process.wait()

    def start(
        self, argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.Popen | None:
        """Start a long-running command (a web server) with its output on this terminal.

        The caller stops it; None in a dry run, where the command is only printed.
        """
        text = self.describe(argv, env=env, cwd=cwd)
        if self.dry or self.echo:
            print(text, file=self.out, flush=True)
        if self.dry:
            return None
        logger.debug("starting %s", text)
        try:
            full_env = {**os.environ, **(env or {})}
            return subprocess.Popen(argv, env=full_env, cwd=cwd, stdin=subprocess.DEVNULL,
                                    preexec_fn=die_with_parent)
        except FileNotFoundError as error:
            raise CommandFailed(argv, 127, f"{argv[0]} not found") from error

    def start_conversation(
        self, argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
        errors: IO[bytes],
    ) -> subprocess.Popen:
        """Start a command that answers requests on its stdin through its stdout (both pipes,
        binary); its stderr goes to the open file `errors`. The caller ends it. Not for dry
        runs: nothing of a conversation can be printed ahead. Raises CommandFailed when
        `argv[0]` does not exist."""
        text = self.describe(argv, env=env, cwd=cwd)
        if self.echo:
            print(text, file=self.out, flush=True)
        logger.debug("starting %s", text)
        try:
            return subprocess.Popen(
                argv, env={**os.environ, **(env or {})}, cwd=cwd, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=errors, preexec_fn=die_with_parent,
            )
        except FileNotFoundError as error:
            raise CommandFailed(argv, 127, f"{argv[0]} not found") from error


@contextmanager
def output_stream_of(process: subprocess.Popen, argv: list[str]) -> Iterator[IO[bytes]]:
    """Yield the process's standard output; its failure is reported before the reader's own
    (a reader that finds the output cut short is seeing the command fail)."""
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    drain.start()

    def failure() -> CommandFailed:
        return CommandFailed(argv, process.returncode, last_lines(b"".join(errors).decode(errors="replace")))

    try:
        yield process.stdout
    except BaseException as error:
        finished = process.poll() is not None or not process.stdout.read(1) and wait_briefly(process)
        if not finished:
            process.kill()
        process.stdout.close()
        process.wait()
        drain.join()
        if finished and process.returncode != 0:
            raise failure() from error
        raise
    stopped_early = bool(process.stdout.read(1))
    if stopped_early:
        process.kill()
    process.stdout.close()
    process.wait()
    drain.join()
    if process.returncode != 0 and not stopped_early:
        raise failure()


def wait_briefly(process: subprocess.Popen) -> bool:
    """True when the process ends within a few seconds (its output has ended already)."""
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return False
    return True


def feed(process: subprocess.Popen, chunks: Iterable[bytes]) -> tuple[bytes, bytes]:
    """Write `chunks` to the process while threads drain its output (no pipe can fill up).

    If the process exits early (it failed), the rest of the input is not read.
    An error raised by `chunks` (a truncated gzip, say) stops the process and propagates.
    """
    collected: dict[str, bytes] = {"out": b"", "err": b""}

    def drain(stream, key):
        collected[key] = stream.read()

    readers = [threading.Thread(target=drain, args=(process.stderr, "err"), daemon=True)]
    if process.stdout is not None:
        readers.append(threading.Thread(target=drain, args=(process.stdout, "out"), daemon=True))
    for reader in readers:
        reader.start()
    try:
        for chunk in chunks:
            process.stdin.write(chunk)
    except BrokenPipeError:
        pass
    except BaseException:
        process.kill()
        raise
    finally:
        try:
            process.stdin.close()
        except BrokenPipeError:
            pass
        process.wait()
        for reader in readers:
            reader.join()
    return collected["out"], collected["err"]


def last_lines(text: str) -> str:
    """The telling part of an error output on one line: a Python traceback's last line (the
    exception and its message), else its error lines, else its last lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        # `package.module.SomeError: message`: the class's own name says enough.
        return re.sub(r"^(?:\w+\.)+(?=\w+: )", "", lines[-1])[:ERROR_LINE_CHARS]
    errors = [line for line in lines if "error" in line.lower()]
    chosen = errors[:2] or lines[-3:]
    return " | ".join(line[:ERROR_LINE_CHARS] for line in chosen)


def die_with_parent() -> None:
    """Run in the child before exec: a SIGKILL of this run ends its children too (a psql still
    loading, a web server still serving), so nothing works on for a run that is gone.
    Elsewhere than Linux the next run's clean-up is what removes their work."""
    if LIBC is not None:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
