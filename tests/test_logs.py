"""Logs: one JSON line per request and per error; LOG_FORMAT=text for people."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from gunicorn.config import Config
from pythonjsonlogger.orjson import OrjsonFormatter

from app import logs

SECRET = "hunter2-secret-token"


@pytest.fixture
def read_lines(app: Flask) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines logged so far, written through the shared mapping's
    formatter and filter to a stream of our own."""
    stream = io.StringIO()
    config = logs.logging_config("json", "INFO")
    assert config["handlers"]["stderr"]["filters"] == ["request_id"]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_each_request_is_one_json_line_with_the_url_rule_and_no_secrets(
    app: Flask, client: FlaskClient
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logs.log.addHandler(handler)
    try:
        created = client.post(
            "/api/v1/gifts",
            json={"name": "Kite", "notes": SECRET},
            headers={"X-Request-ID": "req-1"},
        )
        got = client.get(f"/api/v1/gifts/{created.get_json()['id']}?q={SECRET}")
        missing = client.get("/no/such/page")
        forged = client.get(
            "/api/v1/gifts", headers={"Authorization": f"Bearer {SECRET}"}
        )
    finally:
        logs.log.removeHandler(handler)
    text = stream.getvalue()
    assert SECRET not in text
    first, second, third, fourth = (json.loads(line) for line in text.splitlines())
    assert list(first)[0] == "time" and first["time"].endswith("+00:00")
    assert first["level"] == "INFO" and first["logger"] == "app.requests"
    assert (first["method"], first["path"], first["status"]) == (
        "POST",
        "/api/v1/gifts",
        201,
    )
    assert first["request_id"] == "req-1"
    assert first["duration_ms"] > 0
    assert isinstance(first["member_id"], int)
    assert second["path"].startswith("/api/v1/gifts/<int")
    assert second["path"].endswith(":gift_id>")
    assert second["status"] == 200
    assert second["request_id"] == got.headers["X-Request-ID"]
    assert (third["path"], third["status"]) == (None, 404)
    assert third["request_id"] == missing.headers["X-Request-ID"]
    assert (forged.status_code, fourth["status"]) == (401, 401)
    assert "member_id" not in fourth


def test_the_request_line_names_the_signed_in_member(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.before_request(lambda: setattr(g, "member", {"id": 7, "role": "parent"}))
    with caplog.at_level(logging.INFO, logs.REQUESTS):
        client.get("/healthz")
    (record,) = [r for r in caplog.records if r.name == logs.REQUESTS]
    assert record.member_id == 7


def test_a_crash_is_logged_as_json_with_its_traceback_and_request_id(
    app: Flask, read_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    def explode() -> None:
        raise RuntimeError("boom in the view")

    app.add_url_rule("/explode", view_func=explode)
    response = app.test_client().get("/explode", headers={"X-Request-ID": "req-9"})
    assert response.status_code == 500
    lines = read_lines()
    (error,) = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == "req-9"
    assert error["traceback"].startswith("Traceback")
    assert "RuntimeError: boom in the view" in error["traceback"]
    (request_line,) = [line for line in lines if line["logger"] == logs.REQUESTS]
    assert (request_line["path"], request_line["status"]) == ("/explode", 500)
    assert request_line["request_id"] == "req-9"


def test_text_format_is_one_plain_line(app: Flask) -> None:
    config = logs.logging_config("text", "INFO")
    formatter = logging.Formatter(config["formatters"]["main"]["format"])
    record = logging.LogRecord(
        logs.REQUESTS, logging.INFO, __file__, 1, "GET %s %s", ("/healthz", 200), None
    )
    line = formatter.format(record)
    assert line.endswith(" INFO app.requests GET /healthz 200")
    assert not line.startswith("{")


def test_gunicorn_access_lines_only_when_asked() -> None:
    quiet = logs.logging_config("json", "INFO")
    loud = logs.logging_config("json", "INFO", "-")
    to_file = logs.logging_config("json", "INFO", "/var/log/gifts/access.log")
    assert quiet["loggers"]["gunicorn.access"]["handlers"] == []
    assert "access" not in quiet["handlers"]
    assert loud["loggers"]["gunicorn.access"]["handlers"] == ["access"]
    assert loud["handlers"]["access"]["stream"] == "ext://sys.stdout"
    assert to_file["handlers"]["access"]["filename"] == "/var/log/gifts/access.log"


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.logging_config("xml")


def test_lighter_records_change_no_line(
    monkeypatch: pytest.MonkeyPatch, read_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    """The logging shortcuts drop only what no line prints."""
    monkeypatch.setattr(
        logging, "_srcfile", os.path.normcase(logging.addLevelName.__code__.co_filename)
    )
    monkeypatch.setattr(logging, "logThreads", True)
    monkeypatch.setattr(logging, "logMultiprocessing", True)
    fields = {"method": "GET", "path": "/healthz", "status": 200}
    try:
        raise KeyError("missing")
    except KeyError:
        logs.log.exception("%s %s", "GET", "/healthz", extra=fields)
        logs.lighter_records()
        logs.log.exception("%s %s", "GET", "/healthz", extra=fields)
    assert logging._srcfile is None  # type: ignore[attr-defined]
    before, after = read_lines()
    assert before.pop("time") <= after.pop("time")
    assert before == after
    assert "KeyError: 'missing'" in after["traceback"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """gunicorn's logger applies the dictConfig mapping to the whole process:
    put back the handlers pytest relies on."""
    names = ("", "gunicorn.error", "gunicorn.access")
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.level, logger.propagate))
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def _gunicorn_logger(access_log: str | None) -> logs.GunicornLogger:
    config = Config()
    config.set("accesslog", access_log)
    config.set("logconfig_dict", logs.logging_config("json", "INFO", access_log))
    return logs.GunicornLogger(config)


def _access(logger: logs.GunicornLogger) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/healthz",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "::1",
    }
    request = SimpleNamespace(
        headers=[],
        method="GET",
        uri="/healthz",
        path="/healthz",
        query="",
        version=(1, 1),
    )
    response = SimpleNamespace(status="200 OK", response_length=15, sent=15, headers=[])
    logger.access(response, request, environ, dt.timedelta(milliseconds=2))


def test_gunicorn_builds_no_access_line_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    restore_logging: None,
) -> None:
    quiet = _gunicorn_logger(None)

    def no_atoms(*args: Any) -> None:
        raise AssertionError("the access line was built")

    monkeypatch.setattr(quiet, "atoms", no_atoms)
    _access(quiet)  # gunicorn's own Logger would build it (logconfig_dict)

    loud = _gunicorn_logger("-")
    logging.getLogger("gunicorn.access").addHandler(caplog.handler)
    try:
        _access(loud)
    finally:
        logging.getLogger("gunicorn.access").removeHandler(caplog.handler)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "gunicorn.access"]
    assert '"GET /healthz HTTP/1.1" 200 15' in line


@pytest.mark.parametrize(
    ("message", "args", "extra"),
    [
        (
            "%s %s %s %s ms %s",
            ("GET", "/api/v1/gifts/<int:gift_id>", 200, 1.25, "ab12"),
            {
                "method": "GET",
                "path": "/api/v1/gifts/<int:gift_id>",
                "status": 200,
                "duration_ms": 1.25,
                "request_id": "ab12",
                "member_id": 7,
            },
        ),
        ("plain words, no arguments", (), {}),
        ("%d things", (3,), {"request_id": None, "_private": 1, "nested": {"a": [1]}}),
    ],
)
def test_the_fast_json_line_is_python_json_loggers_own(
    message: str, args: tuple[Any, ...], extra: dict[str, Any]
) -> None:
    """app/logs.py's one-pass ``format`` writes the library's line, byte for
    byte; a record with a traceback takes the library's path itself."""
    formatter = logs.JsonFormatter()
    assert formatter._fast
    record = logging.getLogger(logs.REQUESTS).makeRecord(
        logs.REQUESTS, logging.INFO, __file__, 1, message, args, None, extra=extra
    )
    fast = formatter.format(record)
    assert fast == OrjsonFormatter.format(formatter, record)
    assert json.loads(fast)["message"] == (message % args if args else message)
