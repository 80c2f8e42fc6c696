"""Child-process plumbing shared by the embedded servers."""

import ctypes
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_POLL_INTERVAL = 0.05
_LOG_TAIL_BYTES = 4000

if sys.platform == "linux":
    _PR_SET_PDEATHSIG = 1
    # Looked up now: the hook runs between fork and exec, where symbol lookup is unsafe.
    _prctl = ctypes.CDLL(None, use_errno=True).prctl

    def _die_with_parent() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    _preexec: Callable[[], None] | None = _die_with_parent
else:
    _preexec = None

# PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the
# process. Forking from one thread that lives as long as the interpreter lets
# callers start servers from short-lived worker threads.
_spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medappt-spawner")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(log_path: Path) -> str:
    """The end of a log file, for error messages."""
    try:
        with log_path.open("rb") as log:
            log.seek(max(0, log.seek(0, 2) - _LOG_TAIL_BYTES))
            return log.read().decode(errors="replace")
    except OSError as exc:
        return f"<cannot read {log_path}: {exc}>"


def _group_for(user: str | None, group: str | int | None) -> str | int | None:
    """Popen(user=...) keeps the parent's group (root) unless told; default to the user's own."""
    if group is None and user is not None:
        return pwd.getpwnam(user).pw_gid
    return group


def run(
    args: Sequence[str],
    log_path: Path,
    *,
    user: str | None = None,
    group: str | int | None = None,
    cwd: Path | None = None,
    timeout: float = 120.0,
) -> None:
    """Run a short-lived command to completion; raise with its output if it fails."""
    with log_path.open("wb") as log:
        result = subprocess.run(  # noqa: S603 - argv built by this package, no shell
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            user=user,
            group=_group_for(user, group),
            # Without this the child keeps root's supplementary groups.
            extra_groups=None if user is None else [],
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"{args[0]} exited with code {result.returncode}; "
            f"output ({log_path}):\n{log_tail(log_path)}"
        )


class ManagedProcess:
    """A long-running server child process whose output goes to a log file."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        log_path: Path,
        *,
        user: str | None = None,
        group: str | int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_path

        def spawn() -> subprocess.Popen[bytes]:
            return subprocess.Popen(  # noqa: S603 - argv built by this package, no shell
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                user=user,
                group=_group_for(user, group),
                extra_groups=None if user is None else [],
                # Own session: a terminal Ctrl-C reaches only us, and we stop
                # the children in order instead of them dying mid-request.
                start_new_session=True,
                # Safe here despite threads: the hook only calls the pre-resolved prctl.
                preexec_fn=_preexec,  # noqa: PLW1509
            )

        with log_path.open("wb") as log:
            self._popen = _spawner.submit(spawn).result()

    @property
    def pid(self) -> int:
        return self._popen.pid

    def wait_until_ready(self, check: Callable[[], bool], timeout: float) -> None:
        """Poll `check` until it passes; raise if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            code = self._popen.poll()
            if code is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {code} before becoming ready; "
                    f"log ({self.log_path}):\n{log_tail(self.log_path)}"
                )
            if check():
                return
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"{self.name} not ready after {timeout:g}s; "
                    f"log ({self.log_path}):\n{log_tail(self.log_path)}"
                )
            time.sleep(_POLL_INTERVAL)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Ask the process to exit with `sig`; kill its whole session if it takes too long."""
        if self._popen.poll() is not None:
            return
        self._popen.send_signal(sig)
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            # The session id is the leader's pid (start_new_session), so this
            # also takes down helpers such as postgres backends.
            os.killpg(self._popen.pid, signal.SIGKILL)
            self._popen.wait()
