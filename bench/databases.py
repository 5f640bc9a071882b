"""The databases a run measures: a fresh SQLite file in the run's temporary
directory and, when a PostgreSQL server answers, fresh databases named
BENCH_DB_PREFIX_<pid>... that the run creates, and drops again at the end."""

from __future__ import annotations

import os
import subprocess

import sqlalchemy as sa

from app.config import database_url
from bench import settings
from bench.settings import BIN, ROOT

CLI_SECONDS = 600  # flask db upgrade of the scaling tables included


def flask_cli(url: str, *args: str) -> str:
    """`flask ARGS` against ``url``, as an operator types it; its stdout."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py"}
    result = subprocess.run(
        [str(BIN / "flask"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_SECONDS,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


class Postgres:
    """A server reachable as BENCH_DATABASE_URL (or the local default): makes
    and drops BENCH_DB_PREFIX_* databases, nothing else."""

    def __init__(self, admin_url: str, prefix: str | None = None) -> None:
        self.admin_url = sa.make_url(database_url(admin_url))
        self.prefix = (prefix or settings.DB_PREFIX) + "_"
        self.engine = sa.create_engine(
            self.admin_url,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 3},
            poolclass=sa.pool.NullPool,
        )
        self.created: list[str] = []

    def name(self, suffix: str) -> str:
        """This run's database for ``suffix``: <prefix>_<pid>[_<suffix>]."""
        return f"{self.prefix}{os.getpid()}" + (f"_{suffix}" if suffix else "")

    def version(self) -> str:
        with self.engine.connect() as connection:
            return connection.exec_driver_sql("SHOW server_version").scalar_one()

    def create(self, name: str) -> str:
        """A fresh, empty database ``name``; its URL."""
        if not name.startswith(self.prefix):
            raise ValueError(f"{name!r}: the bench makes {self.prefix}* databases only")
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def backend_pids(self, name: str) -> list[int]:
        """The server processes serving database ``name`` (their CPU is the
        database's share of a request)."""
        with self.engine.connect() as connection:
            return list(
                connection.scalars(
                    sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                    {"name": name},
                )
            )

    def drop_all(self) -> None:
        with self.engine.connect() as connection:
            while self.created:
                name = self.created.pop()
                connection.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
                )
        self.engine.dispose()


def find_postgres() -> tuple[Postgres | None, str]:
    """The server to measure, or None and why not."""
    if settings.SKIP_POSTGRES:
        return None, "BENCH_SKIP_POSTGRES is set"
    explicit = settings.DATABASE_URL
    server = Postgres(explicit or settings.DEFAULT_PG_ADMIN)
    try:
        server.version()
    except sa.exc.OperationalError as error:
        if explicit:
            first = str(error.orig or error).strip().splitlines()[0]
            raise settings.SettingError(
                f"BENCH_DATABASE_URL does not answer: {first}"
            ) from None
        return None, "no PostgreSQL answers on 127.0.0.1:5432 (user postgres)"
    return server, ""
