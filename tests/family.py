"""A family for the surprise tests: two parents and a child, each a member
linked to their person, and Gran, a person who is no member."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.access import accounts
from app.people import store as people_store
from app.visibility import Viewer
from tests.conftest import client_with_token

GIFTS = "/api/v1/gifts"
LISTS = "/api/v1/lists"
PEOPLE = "/api/v1/people"
# Compared between a hidden gift and a missing one: everything else must match.
VARYING_HEADERS = {"Date", "X-Request-ID", "Content-Length"}


@dataclass
class Member:
    id: int
    person: int
    client: FlaskClient


@dataclass
class Family:
    mum: Member
    dad: Member
    kid: Member
    gran: int  # a person, no member

    def gift(self, by: Member, **fields: Any) -> dict[str, Any]:
        fields.setdefault("name", "A gift")
        response = by.client.post(GIFTS, json=fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def list(self, by: Member, **fields: Any) -> dict[str, Any]:
        response = by.client.post(LISTS, json=fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


def make_family(app: Flask) -> Family:
    with app.app_context():
        nobody = Viewer(0, "parent", None)
        people = {
            name: people_store.create_person({"name": name}, nobody)["id"]
            for name in ("Mum", "Dad", "Kid", "Gran")
        }
        members = {}
        for name, role in (("Mum", "parent"), ("Dad", "parent"), ("Kid", "child")):
            member = accounts.add_member(name, role, person_id=people[name])
            _, token = accounts.create_token(member, label="tests")
            members[name] = Member(
                member.id, people[name], client_with_token(app, token)
            )
    return Family(members["Mum"], members["Dad"], members["Kid"], people["Gran"])


def comparable(response: Any) -> tuple[int, dict[str, str], bytes]:
    """What a client may compare between two answers."""
    headers = {k: v for k, v in response.headers.items() if k not in VARYING_HEADERS}
    return response.status_code, headers, response.get_data()


def same_as_missing(client: FlaskClient, method: str, path: str, **kwargs: Any) -> bool:
    """``path`` (naming a hidden row) answers byte for byte what the same
    request answers for an id that names nothing."""
    missing = path.rsplit("/", 1)[0] + "/2147483647"
    hidden = client.open(path, method=method, **kwargs)
    absent = client.open(missing, method=method, **kwargs)
    return hidden.status_code == 404 and comparable(hidden) == comparable(absent)
