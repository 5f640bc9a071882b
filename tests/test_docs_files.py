"""/docs loads only files served here, and nothing from another host."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient


def test_the_docs_page_loads_only_files_this_service_serves(
    client: FlaskClient,
) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)

    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links  # the stylesheet and two scripts
    for link in links:
        assert link.startswith("/docs/static/"), link
        response = client.get(link)
        assert response.status_code == 200
        assert response.get_data()
        response.close()
    assert not re.search(r"\bhttps?://", html)


@pytest.mark.parametrize(
    "name",
    ["index.html", "swagger-initializer.js", "swagger-ui.js.map", "../__init__.py"],
)
def test_other_files_of_the_bundle_are_not_served(
    client: FlaskClient, name: str
) -> None:
    response = client.get(f"/docs/static/{name}")

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
