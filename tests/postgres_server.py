"""A private PostgreSQL server for fault tests: its own data folder and port, so it can be killed with SIGKILL and
started again without touching the machine's shared cluster (5432), which other tests and people use.

    pg = PostgresServer().start()      # initdb on first start, then pg_ctl start; waits until it answers
    pg.url("rtcc")                     # a SQLAlchemy URL (superuser `postgres`, trust on loopback only)
    pg.kill()                          # `kill -9` of the postmaster (and its backends, as a crash would leave none)
    pg.start()                         # the same data folder: crash recovery replays the WAL
    pg.stop(); pg.remove()

PostGIS comes from the extension files installed system-wide. Running as root, every server command runs as the
`postgres` OS user (initdb and postgres refuse root). Test support, not product code.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"), Path("/usr/lib/postgresql/17/bin"))
SERVER_USER = "postgres"


def server_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are, or None (the tests that need a private server then skip)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    return next((d for d in BIN_DIRS if (d / "pg_ctl").exists() and (d / "initdb").exists()), None)


def available() -> bool:
    if server_bin_dir() is None:
        return False
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        return False
    return shutil.which("runuser") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, root: Path | None = None, port: int | None = None):
        # Not under pytest's tmp_path: its folders are private to root, and the server runs as `postgres`.
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="rtcc-pg-"))
        self.data_dir = self.root / "data"
        self.log_path = self.root / "server.log"
        self.port = port or _free_port()
        self.bin = server_bin_dir()
        self.kills = 0
        if self.bin is None:
            raise FileNotFoundError("initdb/pg_ctl not found (apt-get install postgresql-15-postgis-3)")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def libpq_url(self, database: str = "postgres") -> str:
        return self.url(database).replace("postgresql+psycopg://", "postgresql://")

    # ------------------------------------------------------------------ life cycle

    def start(self, timeout_s: float = 30.0) -> PostgresServer:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-w", "-t", str(int(timeout_s)),
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")
        self._wait_answering(timeout_s)
        return self

    def stop(self) -> None:
        if self.postmaster_pid() is not None:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", check=False)

    def kill(self) -> None:
        """`kill -9` of the server: the postmaster first, then whatever backend outlived it. No shutdown
        checkpoint runs; the next start recovers from the WAL as after a crash."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        os.kill(pid, signal.SIGKILL)
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs([*children], timeout=10)
        deadline = time.monotonic() + 10
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break  # pg_ctl started it and exited; init reaps it
            time.sleep(0.05)
        self.kills += 1

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.remove()

    def postmaster_pid(self) -> int | None:
        """The running postmaster's pid (first line of postmaster.pid), or None when it is not running."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None
        try:
            alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            alive = False
        return pid if alive else None

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.libpq_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except (FileNotFoundError, PermissionError):
            return "(no log)"

    # ------------------------------------------------------------------ internals

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            for path in (self.root, self.data_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        self.data_dir.chmod(0o700)
        self._run("initdb", "-D", str(self.data_dir), "-U", SERVER_USER, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-instructions")
        # Durability as in production: a commit is on disk before it is acknowledged.
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\nfsync = on\nsynchronous_commit = on\nmax_connections = 200\n")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=self.root)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}\n{self.log_tail()}")
        return done

    def _wait_answering(self, timeout_s: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(self.libpq_url(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the private PostgreSQL did not answer:\n{self.log_tail()}") from None
                time.sleep(0.1)
