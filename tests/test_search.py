"""`search` (API.md): the term is a substring of the name by Unicode simple
case folding, accents significant, on both databases; on SQLite through the
FTS5 trigram index of migration 0010, which every write keeps in step."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import folding
from app.access import accounts
from app.extensions import db
from app.gifts import search
from tests.conftest import (
    POSTGRES_URL,
    client_with_token,
    creation_key,
    dispose,
    make_app,
    make_member,
)
from tests.test_cli import flask

GIFTS = "/api/v1/gifts"

# Simple case folding, written for the characters of these tests from what
# Unicode says (CaseFolding.txt, statuses C and S), not from app/folding.py:
# Python's lower() of one character, except where folding differs from it.
# İ folds to itself (its only folding is the full or Turkic one).
NOT_AS_LOWER = {"ς": "σ", "µ": "μ", "ſ": "s", "İ": "İ"}


def folded(text: str) -> str:
    return "".join(
        NOT_AS_LOWER.get(char) or (char.lower() if len(char.lower()) == 1 else char)
        for char in text
    )


NAMES = [
    "Äpfel",
    "äpfel-Saft",
    "Éclair",
    "eclair",
    "Ñandú plush",
    "ΣΟΦΊΑ",
    "σοφία",
    "Οδυσσεύς",
    "Straße",
    "STRASSE",
    "GROẞE Tüte",
    "İstanbul map",
    "istanbul",
    "Ǆungla",
    "ǅep",
    "ǆem",
    "\u2126 resistor",  # OHM SIGN
    "ωmega",
    "Москва",
    "МОСКВА ёлка",
    "µ-metre",
    "ſtraße",
    "\u212a-pop",  # KELVIN SIGN
    "\u212aite",
    "Kite",
    "kit bag",
    "\u212bngström",  # ANGSTROM SIGN
    "ÅNGSTRÖM",
    "ångström",
    "\u2126hm",
    "οδός",  # final sigma
    "ΟΔΌΣ",
    "100% wool",
    "snake_case",
    'say "hi"',
    "star*",
    "two  spaces",
    "🎁 gift box",
    "ab",
    "x",
    "Naïve Art",
    "naive art",
]
TERMS = [
    "äp",
    "ÄPF",
    "éclair",
    "ECLAIR",
    "eclai",
    "ñand",
    "σοφ",
    "ΣΟΦ",
    "σεύς",
    "ΣΕΎΣ",
    "ΣΣ",
    "straße",
    "STRASSE",
    "ẞe",
    "ss",
    "ß",
    "istan",
    "İst",
    "ǅ",
    "ǄUN",
    "ǆe",
    "ωm",
    "Ω r",
    "\u2126 r",
    "москва",
    "ЁЛК",
    "μ-m",
    "µ-M",
    "stra",
    "ſt",
    "k-p",
    "kit",
    "\u212aIT",
    "KITE",
    "ångs",
    "\u212bng",
    "ÅNG",
    "ngstr",
    "\u2126hm",
    "ωHM",
    "ός",
    "ΌΣ",
    "δόσ",
    "ΟΔΌς",
    "K-POP",
    "% w",
    "0%",
    "_c",
    "e_ca",
    '"h',
    'y "hi"',
    "r*",
    "*",
    "  ",
    "o  s",
    "🎁 g",
    "🎁 ",
    "ab",
    "AB",
    "nai",
    "naï",
    "NAÏVE",
    "ve a",
    "zz",
    "no such thing",
]
for _term in TERMS:
    assert len(_term) >= 2 or _term in ("ß", "ǅ", "*"), _term
TERMS = [term for term in TERMS if len(term) >= 2]


def expected(names: list[str], term: str) -> list[str]:
    return sorted(name for name in names if folded(term) in folded(name))


def found(client: FlaskClient, term: str, **extra: Any) -> list[str]:
    names, cursor = [], None
    while True:
        query = {"search": term, "limit": 100, **extra}
        if cursor:
            query["cursor"] = cursor
        response = client.get(GIFTS, query_string=query)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        names += [gift["name"] for gift in page["items"]]
        if not page["has_more"]:
            return sorted(names)
        cursor = page["next_cursor"]


def summary_total(client: FlaskClient, term: str) -> int:
    response = client.get(f"{GIFTS}/summary", query_string={"search": term})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["total"]


def test_the_oracle_folds_as_the_rule_says() -> None:
    assert folded("ÄÉÑΣςσẞǄǅΩ\u2126Ж") == "äéñσσσßǆǆωωж"
    assert folded("ß") == "ß" and folded("İ") == "İ" and folded("é") != "e"


def test_search_answers_the_substring_of_the_folded_name(
    client: FlaskClient, make_gift: Any
) -> None:
    for name in NAMES:
        make_gift(name=name)

    for term in TERMS:
        want = expected(NAMES, term)
        assert found(client, term) == want, term
        assert found(client, term, sort="name") == want, term
        assert summary_total(client, term) == len(want), term


def test_characters_both_databases_fold_alike(
    client: FlaskClient, make_gift: Any
) -> None:
    """The list of issue 19, one by one."""
    for name in ("xäx", "xéx", "xex", "xñx", "xσx", "xςx", "xßx", "xssx"):
        make_gift(name=name)
    for name in ("xix", "xİx", "xǆx", "xωx", "xжx", "xёx", "xеx"):
        make_gift(name=name)

    assert found(client, "xÄx") == ["xäx"]
    assert found(client, "xÉx") == ["xéx"]  # accents count: not xex
    assert found(client, "XÑ") == ["xñx"]
    assert found(client, "xΣx") == found(client, "xςx") == ["xςx", "xσx"]
    assert found(client, "xẞx") == ["xßx"]  # and not xssx
    assert found(client, "XSS") == ["xssx"]
    assert found(client, "xİx") == ["xİx"]  # İ is not i
    assert found(client, "XI") == ["xix"]
    assert found(client, "xǄx") == found(client, "xǅ") == ["xǆx"]
    assert found(client, "x\u2126x") == found(client, "xΩ") == ["xωx"]
    assert found(client, "xЖx") == ["xжx"]
    assert found(client, "xЁ") == ["xёx"]  # not е


def test_a_linked_member_finds_only_what_they_may_see(
    app: Flask, client: FlaskClient
) -> None:
    person = client.post("/api/v1/people", json={"name": "Ann"}).get_json()["id"]
    hidden = ["Äpfelkorb für Ann", "ÄP"]
    visible = ["äpfel", "Apfel", "ÄPFELSAFT"]
    for name in hidden:
        response = client.post(GIFTS, json={"name": name, "recipient_ids": [person]})
        assert response.status_code == 201
    for name in visible:
        assert client.post(GIFTS, json={"name": name}).status_code == 201
    with app.app_context():
        member = accounts.add_member("Ann", "parent", person_id=person)
        _, token = accounts.create_token(member, label="tests")
        db.session.remove()
    ann = client_with_token(app, token)

    for term in ("äp", "ÄPF", "äpfel", "Äpfelk", "für", "ap"):
        assert found(ann, term) == expected(visible, term), term
        assert summary_total(ann, term) == len(expected(visible, term)), term
        assert found(client, term) == expected(hidden + visible, term), term


@pytest.mark.parametrize("few", [2, 10**6])
@pytest.mark.parametrize("rare", [3, 10**6])
@pytest.mark.parametrize("walk_rows", [1, 4, 10**9])
def test_a_search_in_many_names_pages_through_all_of_them(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    rare: int,
    walk_rows: int,
    few: int,
) -> None:
    """Whether a page walks the order or drives from the index, whether the
    drive reads the term's rare trigrams or (none being rare) scans, and
    whether the ids they name are read first (fewer than ``few``) or asked
    as the index's subquery, the same gifts, page after page, and the
    summary counts them all."""
    from app.gifts import listing, search

    monkeypatch.setattr(search, "RARE", rare)
    monkeypatch.setattr(search, "FEW", few)
    monkeypatch.setattr(listing, "WALK_ROWS", walk_rows)
    names = [f"Gift {n} Ä" for n in range(12)] + ["Socks", "GIFT ä", "\u212aite 1"]
    names += ["Kit", "KIT 1", "\u212aIT 10", "Gi ft"]
    for name in names:
        assert client.post(GIFTS, json={"name": name}).status_code == 201

    for term in ("gift", "ift 1", "t 1 ä", "GIFT Ä", "kit", "\u212ai", "it 1", "gi"):
        for size in (1, 5):
            for sort in ("recent", "name", "price_asc"):
                got = found(client, term, limit=size, sort=sort)
                assert got == expected(names, term), (term, size, sort)
        assert summary_total(client, term) == len(expected(names, term))


# PostgreSQL's prefilter (app.folding.like_superset) ---------------------------

# Characters whose fold class holds one that lower() lowers otherwise, or
# one above U+07FF, and the pattern's own operators.
TRICKY = "kK\u212aåÅ\u212bωΩ\u2126ßẞσΣςsSſiIİıµμΜǅǄǆ%_\\ aé"


@pytest.mark.skipif(not POSTGRES_URL, reason="the prefilter is PostgreSQL's")
@given(
    names=st.lists(st.text(TRICKY, min_size=1, max_size=8), min_size=1, max_size=8),
    term=st.text(TRICKY, min_size=3, max_size=5),
)
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_prefilter_never_loses_a_match(
    app: Flask, names: list[str], term: str
) -> None:
    """Every name holding the term (the oracle) matches the ILIKE pattern in
    this database, and the exact regex says what the oracle says."""
    with app.app_context(), db.engine.connect() as connection:
        pattern = folding.like_superset(term, search.lowers(connection))
        rows = connection.execute(
            sa.text(
                "SELECT n, n ILIKE :pattern, n ~ :regex"
                " FROM unnest(CAST(:names AS text[])) AS n"
            ),
            {"names": names, "pattern": pattern, "regex": folding.regex(term)},
        ).all()
    for name, prefiltered, exact in rows:
        holds = folded(term) in folded(name)
        assert exact == holds, (name, term)
        assert prefiltered or not holds, (name, term, pattern)


def test_the_prefilter_keeps_only_what_every_fold_lowers_alike() -> None:
    """With lower() as this machine's PostgreSQL gives it (C.UTF-8), ``k``
    stays literal (the Kelvin sign lowers to it), ``s`` does not (``ſ``
    lowers to itself), nor ``σ`` (``ς`` does); the pattern's operators are
    escaped. Written from those lowers, not from the module's table."""
    lowers = {c: c.lower() for c in folding.cased()}
    assert folding.like_superset("\u212aIT", lowers) == "%kit%"
    assert folding.like_superset("ſas", lowers) == "%_a_%"
    assert folding.like_superset("ΟΔΌΣ", lowers) == "%οδό_%"
    assert folding.like_superset("5%_\\x", lowers) == "%5\\%\\_\\\\x%"
    lowers["\u212a"] = "\u212a"  # a database that does not lower it
    assert folding.like_superset("kit", lowers) == "%_it%"
    lowers["\u212a"] = "k\u0307"  # nor to one character
    assert folding.like_superset("kit", lowers) == "%%it%"


@pytest.mark.skipif(not POSTGRES_URL, reason="the trigram index is PostgreSQL's")
def test_a_term_with_the_kelvin_signs_class_reads_the_trigram_index(
    app: Flask, client: FlaskClient, make_gift: Any
) -> None:
    """``kit``'s regex gives pg_trgm no trigram (``k``'s class holds the
    Kelvin sign): the prefilter does, and the index condition holds it; a
    term whose prefilter has no run of 3 (``ſſa``) still answers."""
    for name in ("Kit", "\u212aIT bag", "kettle", "ſſa", "SSA", "ssb"):
        make_gift(name=name)
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        where = search.matches("kit", connection).drive
        statement = (
            sa.select(sa.literal(1)).select_from(search.gifts).where(where)
        ).compile(connection, compile_kwargs={"literal_binds": True})
        plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}").scalars())
    assert "Index Cond" in plan and "~~*" in plan.split("Index Cond")[1], plan
    assert found(client, "kit") == ["Kit", "\u212aIT bag"]
    assert found(client, "ſſa") == ["SSA", "ſſa"]


# The index stays in step (SQLite) ------------------------------------------------


def _on_sqlite(app: Flask) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "sqlite"


def assert_index_in_step(app: Flask) -> None:
    """FTS5's own check of the index, and each gift's name finding exactly the
    gifts holding it (FTS5 3.40's check does not compare with gifts)."""
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO gift_name_trigrams (gift_name_trigrams)"
            " VALUES ('integrity-check')"
        )
        rows = connection.exec_driver_sql("SELECT id, name, created_at FROM gifts")
        gifts = {gift_id: (name, created_at) for gift_id, name, created_at in rows}
        for name, _ in gifts.values():
            if len(name) < 3:
                continue
            phrase = '"' + name.replace('"', '""') + '"'
            keys = {
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT rowid FROM gift_name_trigrams"
                    " WHERE gift_name_trigrams MATCH ?",
                    (phrase,),
                )
            }
            same = {
                creation_key(i, created_at)
                for i, (n, created_at) in gifts.items()
                if folded(name) in folded(n)
            }
            assert keys == same, name


def test_the_integrity_check_finds_an_index_out_of_step(
    app: Flask, client: FlaskClient
) -> None:
    if not _on_sqlite(app):
        pytest.skip("the FTS5 index is SQLite's")
    client.post(GIFTS, json={"name": "Wooden train"})
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER gifts_name_trigrams_update")
        connection.exec_driver_sql("UPDATE gifts SET name = 'Sledge'")
    with pytest.raises(AssertionError, match="Sledge"):
        assert_index_in_step(app)
    with app.app_context(), db.engine.begin() as connection:
        assert _revision("0015").restore_triggers(connection)  # and refills
    assert_index_in_step(app)


def _revision(revision: str) -> Any:
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    config = Config()
    config.set_main_option("script_location", "migrations")
    return ScriptDirectory.from_config(config).get_revision(revision).module


def test_every_write_keeps_the_index_in_step(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    if not _on_sqlite(app):
        pytest.skip("the FTS5 index is SQLite's")
    ids = [
        client.post(GIFTS, json={"name": name}).get_json()["id"]
        for name in ("Äpfel", "Socks", "Wooden train", "Σοφία", "ab")
    ]
    assert_index_in_step(app)
    gift = client.get(f"{GIFTS}/{ids[0]}")
    changed = client.patch(
        f"{GIFTS}/{ids[0]}",
        json={"name": "ÄPFELSAFT"},
        headers={"If-Match": gift.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert client.patch(f"{GIFTS}/{ids[1]}", json={"notes": "wool"}).status_code == 200
    bulk = client.patch(GIFTS, json={"ids": ids[1:3], "changes": {"name": "Schlitten"}})
    assert bulk.status_code == 200, bulk.get_json()
    assert client.delete(f"{GIFTS}/{ids[3]}").status_code == 204
    assert flask(app, "gifts", "seed", "7").exit_code == 0
    with app.app_context(), db.engine.begin() as connection:  # plain SQL too
        connection.exec_driver_sql(
            "UPDATE gifts SET name = name || ' ✓' WHERE id = ?", (ids[4],)
        )
    assert_index_in_step(app)
    assert found(client, "pfelsaf") == ["ÄPFELSAFT"]
    assert found(client, "socks") == found(client, "σοφ") == []
    assert found(client, "schlitten") == ["Schlitten", "Schlitten"]

    backup = tmp_path / "backup.json"
    assert flask(app, "gifts", "export", str(backup)).exit_code == 0
    target = make_app(f"sqlite:///{tmp_path / 'target.db'}")
    with target.app_context():
        upgrade()
    try:
        assert flask(target, "gifts", "import", str(backup)).exit_code == 0
        assert_index_in_step(target)
        _, token = make_member(target, "Importer", "parent")
        moved = client_with_token(target, token)
        names = [g["name"] for g in json.loads(backup.read_text())["gifts"]]
        for term in ("schlitten", "pfelsaf", "ab ✓", "Ä"[:1] + "p"):
            assert found(moved, term) == expected(names, term)
    finally:
        dispose(target)

    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM gift_recipients")
        connection.exec_driver_sql("DELETE FROM gift_lists")
        connection.exec_driver_sql("DELETE FROM gifts")
    assert_index_in_step(app)
    assert found(client, "schlitten") == []


def test_without_the_index_search_reads_the_table_with_the_same_answers(
    app: Flask, client: FlaskClient
) -> None:
    """An SQLite without FTS5 (or at 0009) scans: the same rule."""
    if not _on_sqlite(app):
        pytest.skip("the FTS5 index is SQLite's")
    for name in NAMES:
        client.post(GIFTS, json={"name": name})
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE gift_name_trigrams RENAME TO gnt_away")
    try:
        for term in TERMS:
            assert found(client, term) == expected(NAMES, term), term
    finally:
        with app.app_context(), db.engine.begin() as connection:
            connection.exec_driver_sql(
                "ALTER TABLE gnt_away RENAME TO gift_name_trigrams"
            )


# The rule's table is FTS5's -------------------------------------------------------


def test_the_folding_table_is_fts5s_code_point_by_code_point() -> None:
    """Every code point of the BMP, and every cased one beyond it, folded by
    the FTS5 trigram tokenizer of this SQLite and by app/folding.py."""
    codes = [c for c in range(1, 0x10000) if not 0xD800 <= c < 0xE000]
    codes += [
        c
        for c in range(0x10000, 0x110000)
        if chr(c).lower() != chr(c) or chr(c).upper() != chr(c)
    ]
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
    connection.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    connection.executemany(
        "INSERT INTO t (rowid, x) VALUES (?, ?)", ((c, chr(c) + "zz") for c in codes)
    )
    by_fts5 = {
        code: term[0]
        for term, code in connection.execute("SELECT term, doc FROM v WHERE offset = 0")
    }
    differ = [hex(c) for c in codes if by_fts5.get(c) != folding.fold(chr(c))]
    assert differ == []
