"""A throw-away PostgreSQL server from Debian's ``postgresql`` package, for tests.

Started with ``initdb`` + ``pg_ctl`` in a temporary folder, listening on a
free loopback port with trust authentication (or, given a ``password``, with
SCRAM password authentication for TCP connections); stopped and removed
afterwards.
PostgreSQL refuses to run as root, so under root the server runs as the
``postgres`` system user that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(
            f"PostgreSQL server binary {name!r} not found: install Debian's 'postgresql' package "
            "(`apt-get install -y postgresql`; .ci/run does this)"
        )
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server(password: str | None = None) -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh, empty database (user ``postgres``;
    with ``password``, TCP logins need it and the URL carries it encoded)."""
    root = Path(tempfile.mkdtemp(prefix="bw-pg-"))
    data = root / "data"
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        user = pwd.getpwnam("postgres")
        os.chmod(root, 0o777)
        data.mkdir()
        os.chown(data, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    auth = ["-A", "trust"]
    if password is not None:
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        os.chmod(pwfile, 0o644)
        auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
    subprocess.run([*prefix, _bin("initdb"), "-D", str(data), "-U", "postgres", *auth,
                    "-E", "UTF8"], check=True, capture_output=True, env=env)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    subprocess.run([*prefix, _bin("pg_ctl"), "-D", str(data), "-o", opts, "-l",
                    str(root / "log"), "-w", "-t", "60", "start"], check=True, capture_output=True,
                   env=env)
    try:
        login = "postgres" if password is None else f"postgres:{quote(password, safe='')}"
        yield f"postgresql+psycopg2://{login}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, _bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, env=env, check=False)
        shutil.rmtree(root, ignore_errors=True)


def readme_url(url: str) -> str:
    """The same database as the README spells PostgreSQL URLs: ``postgresql://``
    (SQLAlchemy's default driver) instead of ``postgresql+psycopg2://``."""
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)
