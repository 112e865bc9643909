"""Bad requests get a precise JSON error with the right status, and write nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from plaudit.app import create_app
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.api_keys import Environment, Scope
from plaudit.domain.event_catalog import default_catalog
from plaudit.store.pagination import Cursor, encode_cursor
from plaudit.store.tables import events
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer

EVENTS = "/api/v1/events"


def example(name: str) -> dict[str, Any]:
    return copy.deepcopy(dict(default_catalog().get(name).example))


def valid_body() -> dict[str, Any]:
    return {"type": "milestone.birthday", "data": example("milestone.birthday")}


def json_headers(org: CreatedOrganization) -> dict[str, str]:
    return {**bearer(org), "Content-Type": "application/json"}


async def stored_events(container: Container, org: CreatedOrganization) -> int:
    """Events of both of the organization's environments, counted in the database."""
    async with container.db.read() as conn:
        count = (
            await conn.execute(
                select(func.count())
                .select_from(events)
                .where(events.c.environment_id.in_(list(org.environment_ids.values())))
            )
        ).scalar_one()
    return int(count)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


async def test_the_valid_body_used_below_is_accepted(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    # The control: every refusal below sends something close to this, which works.
    response = await client.post(
        EVENTS, content=json.dumps(valid_body()), headers=json_headers(org)
    )
    assert response.status_code == 202, response.text
    assert await stored_events(container, org) == 1


# --- malformed bodies -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type": "milestone.birthday", "data": {}',
        b"{'type': 'milestone.birthday'}",
        b'{"type": "milestone.birthday",}',
        b"not json at all",
        b'{"type": "x"} trailing',
    ],
    ids=["truncated", "single-quotes", "trailing-comma", "prose", "trailing-garbage"],
)
async def test_malformed_json_is_400_invalid_json(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container, raw: bytes
) -> None:
    response = await client.post(EVENTS, content=raw, headers=json_headers(org))
    error = assert_error(response, 400, "invalid_json")
    assert error["message"].startswith("request body is not valid JSON")
    assert await stored_events(container, org) == 0


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "text/json"],
)
async def test_wrong_content_type_is_415(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container, content_type: str
) -> None:
    # The body itself is a valid event: only the content type is wrong.
    response = await client.post(
        EVENTS,
        content=json.dumps(valid_body()),
        headers={**bearer(org), "Content-Type": content_type},
    )
    assert_error(response, 415, "unsupported_media_type")
    assert await stored_events(container, org) == 0


async def test_form_and_multipart_bodies_are_415(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    form = await client.post(
        EVENTS, data={"type": "milestone.birthday", "data": "{}"}, headers=bearer(org)
    )
    assert form.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert_error(form, 415, "unsupported_media_type")
    multipart = await client.post(
        EVENTS, files={"data": ("e.json", json.dumps(valid_body()).encode())}, headers=bearer(org)
    )
    assert multipart.request.headers["content-type"].startswith("multipart/form-data")
    assert_error(multipart, 415, "unsupported_media_type")
    assert await stored_events(container, org) == 0


async def test_json_suffix_content_types_are_accepted(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await client.post(
        EVENTS,
        content=json.dumps(valid_body()),
        headers={**bearer(org), "Content-Type": "application/vnd.plaudit+json; charset=utf-8"},
    )
    assert response.status_code == 202, response.text
    assert await stored_events(container, org) == 1


# --- the body size limit --------------------------------------------------------------

LIMIT = 2048


@pytest.fixture
async def small_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with a 2 KiB body limit, on the session's database."""
    limited = Settings(
        database_url=settings.database_url,
        max_body_bytes=LIMIT,
        shutdown_grace_s=settings.shutdown_grace_s,
    )
    application = create_app(limited)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://plaudit.test") as http:
            yield http


def padded_body(size: int) -> bytes:
    """A valid event serialized to exactly `size` bytes (padding is JSON whitespace)."""
    raw = json.dumps(valid_body()).encode()
    assert len(raw) < size
    return raw + b" " * (size - len(raw))


async def chunks(raw: bytes, size: int = 512) -> AsyncIterator[bytes]:
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


async def test_body_at_the_limit_is_accepted(
    small_app: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await small_app.post(EVENTS, content=padded_body(LIMIT), headers=json_headers(org))
    assert response.status_code == 202, response.text
    assert await stored_events(container, org) == 1


async def test_body_over_the_limit_with_content_length_is_413(
    small_app: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await small_app.post(
        EVENTS, content=padded_body(LIMIT + 1), headers=json_headers(org)
    )
    assert response.request.headers["content-length"] == str(LIMIT + 1)
    error = assert_error(response, 413, "payload_too_large")
    assert str(LIMIT) in error["message"]
    assert error["details"] is None
    assert response.headers["x-request-id"]
    assert await stored_events(container, org) == 0


async def test_chunked_body_over_the_limit_without_content_length_is_413(
    small_app: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await small_app.post(
        EVENTS, content=chunks(padded_body(LIMIT * 3)), headers=json_headers(org)
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_error(response, 413, "payload_too_large")
    assert await stored_events(container, org) == 0


async def test_chunked_body_under_the_limit_is_reassembled_and_accepted(
    small_app: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await small_app.post(
        EVENTS, content=chunks(padded_body(LIMIT), size=100), headers=json_headers(org)
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 202, response.text
    assert response.json()["data"] == example("milestone.birthday")
    assert await stored_events(container, org) == 1


async def test_understated_content_length_does_not_bypass_the_limit(
    small_app: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await small_app.post(
        EVENTS,
        content=chunks(padded_body(LIMIT * 2)),
        headers={**json_headers(org), "Content-Length": "10"},
    )
    assert_error(response, 413, "payload_too_large")
    assert await stored_events(container, org) == 0


# --- field rules (422) ------------------------------------------------------------------


async def test_unknown_top_level_field_is_422_naming_it(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await client.post(
        EVENTS, json={**valid_body(), "priority": "high"}, headers=bearer(org)
    )
    error = assert_error(response, 422, "validation_error")
    assert error["details"] == [
        {
            "path": "body.priority",
            "message": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
    assert error["message"] == "body.priority: Extra inputs are not permitted"
    assert await stored_events(container, org) == 0


@pytest.mark.parametrize(
    ("patch", "paths"),
    [
        ({"type": 5}, ["body.type"]),
        ({"type": None}, ["body.type"]),
        ({"type": ["milestone.birthday"]}, ["body.type"]),
        ({"data": "x"}, ["body.data"]),
        ({"data": [1, 2]}, ["body.data"]),
        ({"data": None}, ["body.data"]),
        ({"idempotency_key": 7}, ["body.idempotency_key"]),
        ({"idempotency_key": ""}, ["body.idempotency_key"]),
        ({"idempotency_key": "k" * 256}, ["body.idempotency_key"]),
        ({"type": "", "data": 1}, ["body.type", "body.data"]),
        ({"type": "x" * 101}, ["body.type"]),
    ],
)
async def test_wrong_field_types_are_422_naming_each_field(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    container: Container,
    patch: dict[str, Any],
    paths: list[str],
) -> None:
    response = await client.post(EVENTS, json={**valid_body(), **patch}, headers=bearer(org))
    error = assert_error(response, 422, "validation_error")
    assert [d["path"] for d in error["details"]] == paths
    assert error["message"].startswith(f"{paths[0]}: ")
    assert await stored_events(container, org) == 0


async def test_missing_fields_are_422(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await client.post(EVENTS, json={}, headers=bearer(org))
    error = assert_error(response, 422, "validation_error")
    assert [(d["path"], d["type"]) for d in error["details"]] == [
        ("body.type", "missing"),
        ("body.data", "missing"),
    ]
    empty = await client.post(EVENTS, content=b"", headers=json_headers(org))
    assert assert_error(empty, 422, "validation_error")["details"][0]["path"] == "body"
    assert await stored_events(container, org) == 0


async def test_idempotency_key_header_longer_than_255_is_422(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await client.post(
        EVENTS, json=valid_body(), headers={**bearer(org), "Idempotency-Key": "k" * 256}
    )
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["path"] == "header.Idempotency-Key"
    assert await stored_events(container, org) == 0


async def test_disagreeing_idempotency_keys_are_400(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await client.post(
        EVENTS,
        json={**valid_body(), "idempotency_key": "a"},
        headers={**bearer(org), "Idempotency-Key": "b"},
    )
    assert_error(response, 400, "idempotency_key_mismatch")
    assert await stored_events(container, org) == 0


# --- authentication and scopes -------------------------------------------------------


async def test_missing_authorization_is_401_with_bearer_challenge(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await client.post(EVENTS, json=valid_body())
    assert_error(response, 401, "missing_api_key")
    assert response.headers["www-authenticate"] == "Bearer"
    listing = await client.get(EVENTS)
    assert_error(listing, 401, "missing_api_key")
    assert listing.headers["www-authenticate"] == "Bearer"
    assert await stored_events(container, org) == 0


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "",
        "pk_live_notevenbearer",
    ],
)
async def test_non_bearer_authorization_counts_as_missing(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container, authorization: str
) -> None:
    response = await client.post(
        EVENTS, json=valid_body(), headers={"Authorization": authorization}
    )
    assert_error(response, 401, "missing_api_key")
    assert response.headers["www-authenticate"] == "Bearer"
    assert await stored_events(container, org) == 0


@pytest.mark.parametrize(
    "key",
    ["garbage", "pk_live_" + "A" * 43, "pk_test_", "x" * 2000],
)
async def test_garbage_key_is_401_invalid_api_key(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container, key: str
) -> None:
    response = await client.post(
        EVENTS, json=valid_body(), headers={"Authorization": f"Bearer {key}"}
    )
    error = assert_error(response, 401, "invalid_api_key")
    assert key not in error["message"]
    assert response.headers["www-authenticate"] == "Bearer"
    assert await stored_events(container, org) == 0


async def test_a_key_from_another_org_with_one_character_changed_is_invalid(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    secret = org.keys[Environment.PRODUCTION].secret
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    response = await client.get(EVENTS, headers={"Authorization": f"Bearer {flipped}"})
    assert_error(response, 401, "invalid_api_key")


async def test_revoked_key_is_401_revoked_api_key(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    before = await client.get(EVENTS, headers=bearer(org))
    assert before.status_code == 200
    await container.tenancy.revoke_key(org.keys[Environment.PRODUCTION].info.id)
    response = await client.post(EVENTS, json=valid_body(), headers=bearer(org))
    assert_error(response, 401, "revoked_api_key")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(await client.get(EVENTS, headers=bearer(org)), 401, "revoked_api_key")
    # The other environment's key is untouched.
    staging = await client.get(EVENTS, headers=bearer(org, Environment.STAGING))
    assert staging.status_code == 200
    assert await stored_events(container, org) == 0


async def test_connect_read_key_cannot_publish(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    issued = await container.tenancy.create_key(
        org.id, Environment.PRODUCTION, "widget", [Scope.CONNECT_READ]
    )
    response = await client.post(
        EVENTS, json=valid_body(), headers={"Authorization": f"Bearer {issued.secret}"}
    )
    error = assert_error(response, 403, "insufficient_scope")
    assert error["details"] == {"required": "events:write", "granted": ["connect:read"]}
    assert "www-authenticate" not in response.headers
    assert await stored_events(container, org) == 0


async def test_events_write_key_can_publish_but_not_read(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    issued = await container.tenancy.create_key(
        org.id, Environment.PRODUCTION, "hris sync", [Scope.EVENTS_WRITE]
    )
    headers = {"Authorization": f"Bearer {issued.secret}"}
    published = await client.post(EVENTS, json=valid_body(), headers=headers)
    assert published.status_code == 202, published.text
    listing = await client.get(EVENTS, headers=headers)
    error = assert_error(listing, 403, "insufficient_scope")
    assert error["details"] == {"required": "admin", "granted": ["events:write"]}
    one = await client.get(f"{EVENTS}/{published.json()['id']}", headers=headers)
    assert_error(one, 403, "insufficient_scope")
    types = await client.get("/api/v1/event-types", headers=headers)
    assert_error(types, 403, "insufficient_scope")
    assert await stored_events(container, org) == 1


async def test_authentication_is_checked_before_the_body_is_trusted(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    # A valid body with a bad key never reaches the event log.
    response = await client.post(
        EVENTS, json=valid_body(), headers={"Authorization": "Bearer pk_live_nope"}
    )
    assert_error(response, 401, "invalid_api_key")
    assert await stored_events(container, org) == 0


# --- routing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/nope", "/api/v1/nope", "/api/v2/events", "/api/v1/events/evt_x/more"]
)
async def test_unknown_route_is_404_json(
    client: httpx.AsyncClient, org: CreatedOrganization, path: str
) -> None:
    response = await client.get(path, headers=bearer(org))
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "no such route"
    assert error["details"] is None


@pytest.mark.parametrize(
    ("method", "path", "supported"),
    [
        ("DELETE", EVENTS, {"GET", "POST"}),
        ("PUT", f"{EVENTS}/evt_x", {"GET"}),
        ("PATCH", f"{EVENTS}/evt_x", {"GET"}),
        ("POST", "/healthz", {"GET"}),
        ("POST", "/api/v1/event-types", {"GET"}),
    ],
)
async def test_wrong_method_is_405_json(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    container: Container,
    method: str,
    path: str,
    supported: set[str],
) -> None:
    response = await client.request(method, path, json=valid_body(), headers=bearer(org))
    assert_error(response, 405, "method_not_allowed")
    # Starlette lists the methods of the first route matching the path only (for
    # /api/v1/events that is POST), so the header is checked to be a non-empty subset.
    allow = set(response.headers["allow"].split(", "))
    assert allow
    assert allow <= supported
    assert await stored_events(container, org) == 0


# --- never a 500 --------------------------------------------------------------------------


def _event(event_type: str, **changes: Any) -> dict[str, Any]:
    data = example(event_type)
    data.update(changes)
    return {"type": event_type, "data": data}


def _birthday_named(name: str) -> bytes:
    body = valid_body()
    body["data"]["employee"]["name"] = name
    return json.dumps(body).encode()


_DEEP = b"[" * 100_000 + b"]" * 100_000

ODD_BODIES: list[tuple[str, bytes, int, str]] = [
    ("empty-array", b"[]", 422, "validation_error"),
    ("string", b'"x"', 422, "validation_error"),
    ("null", b"null", 422, "validation_error"),
    ("number", b"42", 422, "validation_error"),
    ("type-is-int", b'{"type": 5}', 422, "validation_error"),
    ("data-is-array", b'{"type": "milestone.birthday", "data": []}', 422, "validation_error"),
    ("empty-data", b'{"type": "milestone.birthday", "data": {}}', 400, "invalid_event_data"),
    ("unknown-type", b'{"type": "cake.eaten", "data": {}}', 400, "unknown_event_type"),
    ("deep-nesting", _DEEP, 400, "invalid_json"),
    ("deep-nesting-in-type", b'{"type": ' + _DEEP + b', "data": {}}', 400, "invalid_json"),
    (
        "moderate-nesting-in-data",
        b'{"type": "milestone.birthday", "data": {"employee": ' + b"[" * 500 + b"]" * 500 + b"}}",
        400,
        "invalid_event_data",
    ),
    ("int-too-long-to-parse", b'{"type": ' + b"9" * 5000 + b', "data": {}}', 400, "invalid_json"),
    (
        "int-beyond-64-bits",
        json.dumps(_event("milestone.work_anniversary", years=2**64)).encode(),
        400,
        "invalid_event_data",
    ),
    (
        "int-beyond-64-bits-idempotent",
        json.dumps(
            {**_event("milestone.work_anniversary", years=10**30), "idempotency_key": "big"}
        ).encode(),
        400,
        "invalid_event_data",
    ),
    (
        "nan",
        json.dumps(_event("survey.completed", response_rate=float("nan"))).encode(),
        400,
        "invalid_event_data",
    ),
    (
        "infinity",
        json.dumps(_event("survey.completed", response_rate=float("inf"))).encode(),
        400,
        "invalid_event_data",
    ),
    ("nul-in-data", _birthday_named("Ada\u0000Lovelace"), 400, "invalid_event_data"),
    ("lone-surrogate-in-data", _birthday_named("Ada\ud800"), 400, "invalid_event_data"),
    (
        "nul-in-idempotency-key",
        json.dumps({**valid_body(), "idempotency_key": "k\u0000"}).encode(),
        400,
        "invalid_idempotency_key",
    ),
    (
        "lone-surrogate-in-idempotency-key",
        json.dumps({**valid_body(), "idempotency_key": "k\ud800"}).encode(),
        422,
        "validation_error",
    ),
    ("not-utf-8", b'{"type": "\xff\xfe\xfd", "data": {}}', 400, "invalid_json"),
    ("latin-1", '{"type": "café", "data": {}}'.encode("latin-1"), 400, "invalid_json"),
    ("nul-byte", b"\x00", 400, "invalid_json"),
    ("bom-only", b"\xef\xbb\xbf", 400, "invalid_json"),
]


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [pytest.param(raw, status, code, id=label) for label, raw, status, code in ODD_BODIES],
)
async def test_odd_bodies_are_client_errors_never_500(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    container: Container,
    raw: bytes,
    status: int,
    code: str,
) -> None:
    response = await client.post(EVENTS, content=raw, headers=json_headers(org))
    assert_error(response, status, code)
    assert await stored_events(container, org) == 0


async def test_odd_bodies_in_one_go_never_500(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    # Property-style: every combination of odd value in each field is a 4xx.
    odd_values: list[Any] = [
        None,
        True,
        0,
        -1,
        2**63,
        -(2**63) - 1,
        2**64,
        1.5e308,
        "",
        "\u0000",
        "x" * 10_000,
        [],
        {},
        [[[[[[]]]]]],
        {"": {"": {"": None}}},
        "\u202e\u200b",
    ]
    statuses = []
    for value in odd_values:
        bodies: list[Any] = [
            value,
            {"type": value},
            {"type": value, "data": {}},
            {"type": "milestone.birthday", "data": value},
            {"type": "milestone.birthday", "data": {"employee": value}},
        ]
        # A null key is simply absent, and odd but printable text is a fine key.
        if value is not None and value != "\u202e\u200b":
            bodies.append({**valid_body(), "idempotency_key": value})
        for body in bodies:
            response = await client.post(
                EVENTS, content=json.dumps(body), headers=json_headers(org)
            )
            statuses.append(response.status_code)
            assert 400 <= response.status_code < 500, (body, response.text)
            assert response.json()["error"]["code"], response.text
    assert len(statuses) == len(odd_values) * 6 - 2
    assert await stored_events(container, org) == 0


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        (EVENTS, {"cursor": encode_cursor(Cursor(after_id="evt_\u0000", order="asc"))}, 400,
         "invalid_cursor"),
        (EVENTS, {"cursor": "\u0000"}, 400, "invalid_cursor"),
        (EVENTS, {"cursor": "x" * 513}, 422, "validation_error"),
        (EVENTS, {"limit": "0"}, 422, "validation_error"),
        (EVENTS, {"limit": "201"}, 422, "validation_error"),
        (EVENTS, {"limit": "9" * 5000}, 422, "validation_error"),
        (EVENTS, {"since": "yesterday"}, 422, "validation_error"),
        (EVENTS, {"order": "sideways"}, 422, "validation_error"),
        (EVENTS, {"type": "\u0000"}, 400, "unknown_event_type"),
        (f"{EVENTS}/evt_%00", {}, 404, "not_found"),
        (f"{EVENTS}/{'x' * 5000}", {}, 404, "not_found"),
        (f"{EVENTS}/%F0%9F%8E%89", {}, 404, "not_found"),
        ("/api/v1/event-types/%00", {}, 404, "not_found"),
    ],
)  # fmt: skip
async def test_odd_query_and_path_values_are_client_errors_never_500(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await client.get(path, params=params, headers=bearer(org))
    assert_error(response, status, code)


async def test_nul_in_idempotency_key_header_is_400(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    response = await client.post(
        EVENTS, json=valid_body(), headers={**bearer(org), "Idempotency-Key": "a\x00b"}
    )
    assert_error(response, 400, "invalid_idempotency_key")
    assert await stored_events(container, org) == 0
