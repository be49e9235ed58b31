#!/usr/bin/env python3
"""A throwaway PostgreSQL server for tests: ``initdb`` in a folder, ``pg_ctl`` on a free loopback port, gone after.

    scripts/pg_throwaway.py start DIR    # prints the server's URL (superuser ``postgres``, no password)
    scripts/pg_throwaway.py stop DIR     # stops the server and removes DIR
    scripts/pg_throwaway.py available    # exit 0 when initdb and pg_ctl are found, else 1 with the reason

``initdb`` refuses to run as root, so as root the programs run as the user ``postgres`` (``runuser``, else ``su``)
and DIR is handed to that user. The server listens on 127.0.0.1 only, trusts local connections, and runs with
``fsync=off``: it holds nothing worth keeping, and a crash test kills clients, never this server.

The programs are looked up on ``PATH``, then in ``pg_config --bindir``, then in ``/usr/lib/postgresql/*/bin``.
The tests (``tests/conftest.py``) and ``.ci/run`` both start their server with this script.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVICE_USER = "postgres"


def find_program(name: str) -> str | None:
    """The path of a PostgreSQL program, or ``None``."""
    found = shutil.which(name)
    if found:
        return found
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            bindir = ""
        if bindir and os.access(os.path.join(bindir, name), os.X_OK):
            return os.path.join(bindir, name)
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def missing() -> str | None:
    """Why no throwaway server can start here (``None`` when it can)."""
    absent = [name for name in ("initdb", "pg_ctl") if find_program(name) is None]
    if absent:
        return f"{' and '.join(absent)} not found (PATH, pg_config --bindir, /usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0 and not _user_exists(SERVICE_USER):
        return f"running as root and there is no user {SERVICE_USER!r} to run initdb as"
    return None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _as_service_user(argv: list[str]) -> list[str]:
    """``argv`` run as the unprivileged service user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SERVICE_USER, "--", *argv]
    import shlex

    return ["su", SERVICE_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(folder: str | Path) -> str:
    """Create and start a server in ``folder`` (created if need be); returns its SQLAlchemy URL."""
    reason = missing()
    if reason:
        raise RuntimeError(f"cannot start a throwaway PostgreSQL server: {reason}")
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam(SERVICE_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
        folder.chmod(0o700)
    data, log = folder / "data", folder / "server.log"
    initdb, pg_ctl = find_program("initdb"), find_program("pg_ctl")
    subprocess.run(_as_service_user([initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                     "--locale=C", "--no-sync"]),  # type: ignore[list-item]
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last_error = ""
    for _ in range(5):  # a port found free may be taken before the server binds it: try another
        port = _free_port()
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        argv = [str(pg_ctl), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"]
        done = subprocess.run(_as_service_user(argv),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode == 0:
            (folder / "port").write_text(str(port))
            return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        last_error = done.stderr + (log.read_text(errors="replace")[-2000:] if log.exists() else "")
        time.sleep(0.2)
    raise RuntimeError(f"the throwaway PostgreSQL server did not start:\n{last_error}")


def stop(folder: str | Path) -> None:
    """Stop the server in ``folder`` (if it runs) and remove the folder."""
    folder = Path(folder).resolve()
    data = folder / "data"
    pg_ctl = find_program("pg_ctl")
    if pg_ctl and (data / "postmaster.pid").exists():
        subprocess.run(_as_service_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) == 1 and argv[0] == "available":
        reason = missing()
        if reason:
            print(reason, file=sys.stderr)
            return 1
        return 0
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: pg_throwaway.py start DIR | stop DIR | available", file=sys.stderr)
        return 2
    command, folder = argv
    if command == "start":
        try:
            print(start(folder))
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", None)
            print(f"{exc}{': ' + detail.decode(errors='replace') if isinstance(detail, bytes) else ''}",
                  file=sys.stderr)
            return 1
        return 0
    stop(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
