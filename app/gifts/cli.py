"""`flask gifts ...`: sample data, and a household's backup written and read back."""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import AppGroup

from app import backup, ids
from app.database import household_engine
from app.gifts.sample import gift_row
from app.models import Gift
from app.sqlite_writers import writer_lock

gifts = Gift.__table__

cli = AppGroup(
    "gifts", help="Sample gifts, and backups of everything a household owns."
)


@cli.command("seed")
@click.argument("count", type=click.IntRange(1, 100_000))
@click.option("--seed", default=2026, show_default=True, help="Random seed.")
def seed(count: int, seed: int) -> None:
    """Add COUNT sample gifts (the same ones for the same seed)."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    rows = [gift_row(rng, now, index) for index in range(1, count + 1)]
    # Up to 100 000 gifts at once: unbounded by the requests' statement timeout.
    with (
        household_engine() as engine,
        writer_lock(engine),
        engine.begin() as connection,
    ):
        added = ids.insert_many(connection, gifts, rows)
    click.echo(f"added {added} sample gifts (random ids)", err=True)


@cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--include-secret-hashes",
    is_flag=True,
    help="Also write password and token hashes (keep such a file secret).",
)
def export(file: str, include_secret_hashes: bool) -> None:
    """Write everything the household owns to FILE as JSON ('-': stdout)."""
    try:
        data = backup.export_data(include_secret_hashes)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    raw = backup.dumps(data)
    if file == "-":
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
    else:
        # Written aside and renamed: an interrupted export leaves no half file.
        path = Path(file)
        try:
            with tempfile.NamedTemporaryFile(
                "wb", dir=path.parent, prefix=f".{path.name}.", delete=False
            ) as temporary:
                temporary.write(raw)
            os.replace(temporary.name, path)
        except OSError as error:
            raise click.ClickException(f"cannot write {file}: {error}") from error
    counts = ", ".join(
        f"{len(data[s.name])} {s.name}" for s in backup.SECTIONS if s.name in data
    )
    click.echo(f"exported {counts} to {file}", err=True)


@cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_(file: click.utils.LazyFile) -> None:
    """Load FILE (written by `flask gifts export`) into an empty database:
    all or nothing, keeping ids and timestamps."""
    try:
        counts = backup.import_data(backup.parse(file.read()))
    except backup.BackupError as error:
        raise click.ClickException(
            f"{file.name}: nothing imported:\n{error}"
        ) from error
    click.echo(
        "imported " + ", ".join(f"{n} {name}" for name, n in counts.items()), err=True
    )
