"""A real browser (headless Chromium) uses the API from a second origin.

The dashboard page (tests/browser/dashboard.html) is served on one port, the
API on another, so they are different origins. From an origin in CORS_ORIGINS
the page signs in, lists gifts and PATCHes one with If-Match; from an origin not
in it the browser itself refuses the answers (and the PATCH is never sent).

Without chromium on PATH the tests fail, saying what to install (`make test`
installs it as root on Debian or Ubuntu); GIFTS_SKIP_BROWSER=1 skips them.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.access import accounts
from tests.conftest import client_with_token, dispose

pytestmark = pytest.mark.slow

MISSING = (
    "chromium is missing: `sudo apt-get install -y chromium` (make test does it as "
    "root), or GIFTS_SKIP_BROWSER=1 to skip the browser tests"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_DIRECTORY = Path(__file__).resolve().parent / "browser"
PASSWORD = "correct horse battery"
TIMEOUT_MS = 20_000


class Server:
    """A WSGI app or a folder served on 127.0.0.1 from a thread, always stopped."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_page() -> Server:
    handler = functools.partial(QuietHandler, directory=str(PAGE_DIRECTORY))
    return Server(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler))


@pytest.fixture
def origins() -> Iterator[tuple[Server, Server]]:
    """Two page origins: the dashboard's (allowed) and another (not)."""
    allowed, other = serve_page(), serve_page()
    yield allowed, other
    allowed.stop()
    other.stop()


@pytest.fixture
def api(
    empty_database_url: str,
    origins: tuple[Server, Server],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Server, Any]]:
    """The API allowing only the dashboard's origin, with a parent and 2 gifts."""
    monkeypatch.setenv("CORS_ORIGINS", origins[0].origin)
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        member = accounts.add_member("Mum", "parent", password=PASSWORD)
        _, token = accounts.create_token(member)
    client = client_with_token(app, token)
    for name in ("Kite", "Sledge"):
        assert client.post("/api/v1/gifts", json={"name": name}).status_code == 201
    server = Server(make_server("127.0.0.1", 0, app, threaded=True))
    yield server, client
    server.stop()
    dispose(app)


@pytest.fixture(autouse=True)
def opted_out() -> None:
    if os.environ.get("GIFTS_SKIP_BROWSER") == "1":
        pytest.skip("GIFTS_SKIP_BROWSER=1: the browser tests are skipped")


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless chromium, or the test fails (not errors) saying what to install."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(MISSING, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield browser
        finally:
            browser.close()


def run_dashboard(browser: Any, page_origin: str, api_origin: str) -> dict[str, Any]:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{page_origin}/dashboard.html")
        result: dict[str, Any] = page.evaluate(
            "([api, password]) => dashboard(api, 'Mum', password)",
            [api_origin, PASSWORD],
        )
        return result
    finally:
        page.close()


def test_the_dashboard_signs_in_lists_and_edits_from_an_allowed_origin(
    api: tuple[Server, Any], origins: tuple[Server, Server]
) -> None:
    server, client = api
    with chromium() as browser:
        result = run_dashboard(browser, origins[0].origin, server.origin)

    assert result["sign_in"] == 201, result
    assert result["list"] == 200
    assert result["names"] == ["Sledge", "Kite"]
    assert result["etag"]  # exposed: the page can read it
    assert result["patch"] == 200 and result["patched_status"] == "selected"
    assert result["new_etag"] and result["new_etag"] != result["etag"]
    assert result["request_id"]
    assert result["stale_patch"] == 412
    gifts = client.get("/api/v1/gifts").get_json()["items"]
    assert [gift["status"] for gift in gifts] == ["selected", "idea"]


def test_the_browser_refuses_the_api_to_another_origin(
    api: tuple[Server, Any], origins: tuple[Server, Server]
) -> None:
    server, client = api
    with chromium() as browser:
        result = run_dashboard(browser, origins[1].origin, server.origin)

        assert set(result) == {"sign_in_error"}, result
        assert "Failed to fetch" in result["sign_in_error"]
        # Even with a token the page cannot read a listing, let alone PATCH.
        token = client.environ_base["HTTP_AUTHORIZATION"]
        page = browser.new_page()
        try:
            page.goto(f"{origins[1].origin}/dashboard.html")
            refused = page.evaluate(
                "([api, token]) => edit(api, {Authorization: token})",
                [server.origin, token],
            )
        finally:
            page.close()
    assert set(refused) == {"list_error"}, refused
    gifts = client.get("/api/v1/gifts").get_json()["items"]
    assert [gift["status"] for gift in gifts] == ["idea", "idea"]
