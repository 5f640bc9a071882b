"""Alembic's environment, run by Flask-Migrate with the app's engine and models."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from app.models.types import ONLY_ON_DIALECT

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_extension = current_app.extensions["migrate"]
engine = migrate_extension.db.engine
target_metadata = migrate_extension.db.metadata
config.set_main_option(
    "sqlalchemy.url",
    engine.url.render_as_string(hide_password=False).replace("%", "%%"),
)

# A schema change waits for a table lock on PostgreSQL: fail fast instead of
# queueing every request behind it during a deploy.
LOCK_TIMEOUT = "5s"


# SQLite: the FTS5 index of gift names and its shadow tables, which no model
# declares, by the revision that made it: 0010's, keyed by id, and 0015's,
# keyed by creation, which replaced it.
NAME_SEARCH = {"gift_name_search": "0010", "gift_name_trigrams": "0015"}


def include_object(object_, name, type_, reflected, compare_to) -> bool:  # noqa: ARG001
    """Autogenerate compares only what the models build on this database: an
    index declared with app.models.types.only_on another dialect is left out,
    and so is the search index (0010's, 0015's)."""
    if type_ == "table" and reflected and compare_to is None:
        if any(name == t or name.startswith(f"{t}_") for t in NAME_SEARCH):
            return False
    only_on = getattr(object_, "info", {}).get(ONLY_ON_DIALECT)
    return only_on in (None, engine.dialect.name)


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``flask db upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        **migrate_extension.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def keep_name_search_in_step(ctx, step, heads, run_args) -> None:  # noqa: ARG001
    """SQLite, after each migration, in its transaction: a migration that
    rebuilt gifts (batch mode) dropped the search index's triggers with the
    old table; put them back and refill the index, so no write goes
    unindexed (the index there is, 0010's or 0015's)."""
    connection = ctx.connection
    for table, made_by in NAME_SEARCH.items():
        found = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
            (table,),
        ).first()
        if found is None:
            continue
        if ctx.script.get_revision(made_by).module.restore_triggers(connection):
            logger.warning("%s: search triggers were missing, restored", step)


def run_migrations_online() -> None:
    """Run the migrations on the app's database."""

    def skip_empty_autogenerate(context, revision, directives):  # noqa: ARG001
        if getattr(config.cmd_opts, "autogenerate", False):
            if directives[0].upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    configure_args = dict(migrate_extension.configure_args)
    configure_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    configure_args.setdefault("include_object", include_object)

    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            # The app's statement_timeout (DB_STATEMENT_TIMEOUT) bounds
            # requests; a migration may rightly run longer (an index build).
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.commit()  # so Alembic opens (and commits) its own transaction
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table's constraints by copying it to a new one
            # and dropping the old (Alembic's batch mode): with foreign keys
            # enforced, that drop would cascade to the rows referring to it
            # (a gift's links). Off for the migrations (a PRAGMA outside any
            # transaction), checked and on again after.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        if sqlite:
            configure_args.setdefault("on_version_apply", keep_name_search_in_step)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # Each migration commits on its own: the locks an early one takes
            # are not held while a later one runs (an index build, say).
            transaction_per_migration=True,
            **configure_args,
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                connection.rollback()  # end any transaction left, for the PRAGMA
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"rows refer to rows that are gone: {broken}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
