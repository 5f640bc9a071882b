"""Sign-ins cannot stall the service (issue 17): password checks are bounded
per worker and per host, and a sign-in over the bound is answered at once,
503 with Retry-After, the same for every login. What a flood costs readers
is measured by bench/flood.py, not asserted here."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.access import accounts, gate
from app.extensions import db
from app.models import SignInFailure
from tests.conftest import client_with_token
from tests.serving import PASSWORD, Service, gunicorn

SESSIONS = "/api/v1/sessions"
ATTEMPTS = [("Mum", PASSWORD), ("Mum", "wrong password"), ("Nobody", PASSWORD)]


@contextmanager
def host_slots_held(folder: Path, slots: int) -> Iterator[None]:
    """Every slot file of the host locked, as other workers' checks would."""
    folder.mkdir(parents=True, exist_ok=True)
    held = []
    try:
        for n in range(slots):
            descriptor = os.open(folder / f"slot-{n}", os.O_RDWR | os.O_CREAT, 0o600)
            held.append(descriptor)
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        for descriptor in held:
            os.close(descriptor)


def answer(response: Any) -> tuple[Any, ...]:
    """All a client can tell apart, but the request's own id."""
    headers = ("Content-Type", "Retry-After", "Cache-Control")
    body = {k: v for k, v in response.get_json().items() if k != "request_id"}
    return (response.status_code, [response.headers.get(h) for h in headers], body)


def failures(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(SignInFailure))


@pytest.fixture
def mum(app: Flask) -> None:
    with app.app_context():
        accounts.add_member("Mum", "parent", None, PASSWORD)


def sign_in(app: Flask, login: str, password: str) -> Any:
    client = client_with_token(app, None)
    return client.post(SESSIONS, json={"login": login, "password": password})


def test_with_the_hosts_slots_taken_every_login_gets_the_same_503(
    app: Flask, mum: None
) -> None:
    hash_gate = app.extensions["hash_gate"]
    with host_slots_held(hash_gate.folder, len(hash_gate.paths)):
        answers = [answer(sign_in(app, *attempt)) for attempt in ATTEMPTS]
    assert answers[0][0] == 503
    assert answers[0][1] == ["application/problem+json", "1", "no-store"]
    assert all(other == answers[0] for other in answers)  # right, wrong, no one
    assert failures(app) == 0  # refused before anything was counted
    assert sign_in(app, "Mum", PASSWORD).status_code == 201  # slots free again


def test_a_workers_checks_are_bounded_and_its_queue_too(app: Flask, mum: None) -> None:
    hash_gate = app.extensions["hash_gate"]
    hash_gate.running.acquire()  # this worker's one check under way
    try:
        assert sign_in(app, "Mum", PASSWORD).status_code == 503  # waited, then 503
        for _ in range(gate.QUEUE + 1):
            hash_gate.admitted.acquire()
        try:  # the queue is full too: 503 without waiting
            assert answer(sign_in(app, "Nobody", "x")) == answer(
                sign_in(app, "Mum", PASSWORD)
            )
        finally:
            for _ in range(gate.QUEUE + 1):
                hash_gate.admitted.release()
    finally:
        hash_gate.running.release()
    assert sign_in(app, "Mum", PASSWORD).status_code == 201


def test_concurrent_sign_ins_of_one_worker_run_one_check_at_a_time(
    app: Flask, mum: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The others wait their turn (within the bound) or get a 503."""
    from app.access import routes

    verify = routes.verify_password
    running, most = 0, 0
    lock = threading.Lock()

    def counted(password_hash: str | None, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return verify(password_hash, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(routes, "verify_password", counted)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda n: sign_in(app, f"ghost{n}", "x").status_code, range(8))
        )
    assert most == 1
    assert set(statuses) <= {401, 503} and 401 in statuses


# Served: the host's bound holds across gunicorn's workers. -------------------


@pytest.fixture
def served(empty_database_url: str, tmp_path: Path) -> Iterator[Service]:
    with gunicorn(
        empty_database_url,
        tmp_path / "gunicorn.log",
        WEB_CONCURRENCY="2",
        SIGN_IN_SLOTS_DIR=str(tmp_path / "slots"),
        SIGN_IN_HASHES_PER_HOST="1",
    ) as running:
        yield running


@pytest.mark.slow
def test_served_the_hosts_bound_holds_for_every_worker(
    served: Service, tmp_path: Path
) -> None:
    with host_slots_held(tmp_path / "slots", 1):
        replies = [
            served.request(
                "POST", SESSIONS, {"login": login, "password": password}, token=None
            )
            for login, password in ATTEMPTS * 2  # both workers, most likely
        ]
    assert {reply.status for reply in replies} == {503}
    assert {reply.headers["retry-after"] for reply in replies} == {"1"}
    bodies = [{k: v for k, v in r.body.items() if k != "request_id"} for r in replies]
    assert all(body == bodies[0] for body in bodies)
    mum = {"login": "Mum", "password": PASSWORD}
    assert served.request("POST", SESSIONS, mum, token=None).status == 201


@pytest.mark.slow
def test_served_a_flood_of_sign_ins_gets_401_or_503_and_readers_get_200(
    served: Service,
) -> None:
    def flood(n: int) -> int:
        body = {"login": f"nobody-{n}", "password": "made up"}
        return served.request("POST", SESSIONS, body, token=None).status

    with ThreadPoolExecutor(16) as pool:
        sign_ins = pool.map(flood, range(64))
        readers = [served.request("GET", "/api/v1/gifts").status for _ in range(10)]
        statuses = list(sign_ins)
    assert set(statuses) <= {401, 503} and 503 in statuses
    assert readers == [200] * 10
