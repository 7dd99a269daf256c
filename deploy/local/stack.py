"""Start and stop Dabba's processes (the services, the console and the sandbox) on this machine.

`python -m deploy.local.stack start|stop|status`; tests and the benchmark use the Stack class.
Logs go to .local/services/<name>.log, pids to .local/services/<name>.pid.

DABBA_REPLICAS=N (1 to 4, default 1) runs N processes of every service (not the sandbox, which
stands in for the providers): ``orders``, ``orders-2``, … in one consumer group on the same
database, each on its own HTTP port (deploy/local/ports.py: 20 apart). docs/scaling.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local.ports import (
    DEV_API_KEYS,
    LOCAL_DATABASE,
    LOCAL_KAFKA,
    MAX_REPLICAS,
    PORTS,  # noqa: F401  (the demo and the tests read the first replicas' ports from here)
    console_env,
    port_of,
    replica_name,
    service_of,
    service_urls,
)

ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = ROOT / ".local" / "services"

SERVICES = (
    "orders",
    "routing",
    "inventory",
    "shipping",
    "notifications",
    "returns",
    "console",
    "channels",
    "invoicing",
)

ANY_HOUR = {"QUIET_HOURS": ""}
"""Settings that make a stack behave the same at any hour in India, for the tests and the benchmark:
no quiet hours (a non-urgent message sent at 23:00 IST would otherwise wait until 09:00). A test
about quiet hours sets its own window around "now" (tests/e2e/test_notifications_scheduling.py)."""


def module_of(name: str) -> str:
    """The Python module that runs a process (any replica of a service runs the service's)."""
    service = service_of(name)
    return "sandbox" if service == "sandbox" else f"services.{service}"


def replicas_from_env() -> int:
    """DABBA_REPLICAS: how many processes of each service a stack runs (1 unless set)."""
    raw = os.environ.get("DABBA_REPLICAS") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_REPLICAS:
        raise ValueError(f"DABBA_REPLICAS must be a whole number from 1 to {MAX_REPLICAS}, not {raw!r}")
    return int(raw)


def replicas_of(names: tuple[str, ...] | list[str], replicas: int) -> list[str]:
    """Every process of these names with ``replicas`` of each service: the first replicas, then the
    second ones, and so on (the sandbox is one process, whatever the count)."""
    return [
        replica_name(name, n) for n in range(1, replicas + 1) for name in names if n == 1 or name != "sandbox"
    ]


def _pid_alive(pid: int) -> bool:
    """Whether a process runs; an exited child is reaped here, and a zombie counts as gone."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: another Stack (another command) started it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _ready(port: int, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Stack:
    """Processes of one local stack; each can be started, killed and restarted on its own."""

    run_dir: Path = RUN_DIR
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    replicas: int = field(default_factory=replicas_from_env)

    def instances(self, names: tuple[str, ...] = ("sandbox", *SERVICES)) -> list[str]:
        """The processes of these services in this stack, every replica (``orders``, ``orders-2``, …)."""
        return replicas_of(names, self.replicas)

    def log_path(self, name: str) -> Path:
        """Where a process writes its log."""
        return self.run_dir / f"{name}.log"

    def pid_path(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def running_pid(self, name: str) -> int | None:
        """The pid of a running process started by any Stack, if there is one."""
        try:
            pid = int(self.pid_path(name).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def environment(self, name: str, extra_env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment a process starts with: the local stack's, under this shell's and overrides."""
        env = {
            # The local stack is local development: the dev keys and secrets, the sandbox.
            "DABBA_MODE": "development",
            "KAFKA_BOOTSTRAP_SERVERS": LOCAL_KAFKA,
            "DATABASE_URL": LOCAL_DATABASE,
            "API_KEYS": DEV_API_KEYS,
            **service_urls(),
            **(console_env() if service_of(name) == "console" else {}),
            **os.environ,
            **self.env,
            **(extra_env or {}),
            "HTTP_PORT": str(port_of(name)),
        }
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def start(self, name: str, *, extra_env: dict[str, str] | None = None, append: bool = True) -> int:
        """Start one process in the background; returns its pid (or the one already running)."""
        pid = self.running_pid(name)
        if pid is not None:
            return pid
        self.run_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment(name, extra_env)
        log = self.log_path(name).open("ab" if append else "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", module_of(name)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs[name] = proc
        self.pid_path(name).write_text(str(proc.pid))
        return proc.pid

    def wait_ready(self, names: list[str], timeout: float | None = None) -> None:
        """Wait until each process answers its readiness check (DABBA_READY_TIMEOUT s, default 60)."""
        timeout = timeout or float(os.environ.get("DABBA_READY_TIMEOUT") or 60)
        deadline = time.monotonic() + timeout
        for name in names:
            path = "/healthz" if service_of(name) == "sandbox" else "/readyz"
            while not _ready(port_of(name), path):
                pid = self.running_pid(name)
                if pid is None:
                    tail = self.log_path(name).read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{name} exited while starting; end of its log:\n{tail}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout:.0f}s; see {self.log_path(name)}")
                time.sleep(0.2)

    def signal(self, name: str, sig: int) -> None:
        """Send a signal to a process (SIGKILL for crash tests)."""
        pid = self.running_pid(name)
        if pid is not None:
            os.kill(pid, sig)

    def stop(self, name: str, timeout: float = 15) -> None:
        """SIGTERM (graceful: finish the batch, close the pool), SIGKILL after the timeout."""
        pid = self.running_pid(name)
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            self._reap(name)
            time.sleep(0.1)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        self._reap(name)
        self.pid_path(name).unlink(missing_ok=True)

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        pid = self.running_pid(name)
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        while _pid_alive(pid):
            self._reap(name)
            time.sleep(0.05)
        self.pid_path(name).unlink(missing_ok=True)

    def _reap(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is not None:
            self.procs.pop(name, None)

    def start_all(self, names: tuple[str, ...] = ("sandbox", *SERVICES)) -> None:
        """Start every process (each replica) and wait for all to be ready (generously: on a loaded
        two-core machine importing seven Python processes at once has taken two minutes)."""
        every = self.instances(names)
        for name in every:
            self.start(name)
        self.wait_ready(every, timeout=240)

    def stop_all(self, names: tuple[str, ...] = ("sandbox", *SERVICES)) -> None:
        """Stop every process, services first; replicas up to the most there can be, so a stack
        started with more replicas than this one's is stopped whole."""
        for name in reversed(replicas_of(names, MAX_REPLICAS)):
            self.stop(name)


def main() -> int:
    """Command line: start, stop or show the processes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "status"])
    args = parser.parse_args()
    stack = Stack()
    names = ("sandbox", *SERVICES)
    if args.action == "start":
        started = time.monotonic()
        stack.start_all(names)
        print(
            f"stack: {len(stack.instances(names))} processes ready in {time.monotonic() - started:.1f}s "
            f"(logs: .local/services/, `make logs`)"
        )
    elif args.action == "stop":
        stack.stop_all(names)
        print("stack: stopped")
    else:
        for name in stack.instances(names):
            pid = stack.running_pid(name)
            state = f"up (pid {pid})" if pid else "down"
            print(f"{name:16} {state:16} :{port_of(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
