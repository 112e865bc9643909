"""Error bodies that echo odd client input still render as JSON."""

from __future__ import annotations

import json

from plaudit.api.responses import JsonResponse


def test_an_integer_beyond_64_bits_is_rendered_not_a_crash() -> None:
    huge = -136831275814250052845568
    response = JsonResponse({"error": {"code": "invalid_points", "details": {"value": huge}}})
    assert json.loads(response.body) == {
        "error": {"code": "invalid_points", "details": {"value": huge}}
    }


def test_ordinary_bodies_are_compact_orjson() -> None:
    assert JsonResponse({"a": [1, "b"]}).body == b'{"a":[1,"b"]}'
