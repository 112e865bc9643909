"""The bytes an endpoint receives: the event envelope, shaped per endpoint, then signed."""

from __future__ import annotations

from typing import Any

import orjson

from plaudit.delivery.models import ClaimedMessage, EndpointConfig
from plaudit.domain.signing import delivery_headers
from plaudit.transform.field_selection import FieldSelection
from plaudit.transform.jsonata_engine import CompiledTemplate, TemplateError, compile_template

USER_AGENT = "Plaudit-Webhooks/0.1"
TEST_HEADER = "plaudit-test"


class ShapingFailed(Exception):
    """The endpoint's template failed on this event (recorded as a failed attempt)."""


class PayloadShaper:
    """Applies an endpoint's field selection or template; compiled templates are cached."""

    def __init__(self) -> None:
        self._templates: dict[tuple[str, object], CompiledTemplate] = {}

    async def body(self, message: ClaimedMessage, endpoint: EndpointConfig) -> bytes:
        timestamp = message.event_timestamp
        if not endpoint.fields and not endpoint.template and message.event_data_json is not None:
            # The wire envelope around the stored JSON, byte for byte what a dump would give.
            return b"".join(
                (
                    b'{"type":',
                    orjson.dumps(message.event_type),
                    b',"timestamp":',
                    orjson.dumps(timestamp),
                    b',"data":',
                    message.event_data_json.encode(),
                    b"}",
                )
            )
        envelope: dict[str, Any] = {
            "type": message.event_type,
            "timestamp": timestamp,
            "data": message.data(),
        }
        if endpoint.fields:
            selection = FieldSelection(
                include=tuple(endpoint.fields.get("include", ())),
                exclude=tuple(endpoint.fields.get("exclude", ())),
            )
            return orjson.dumps(selection.apply(envelope))
        if endpoint.template:
            try:
                # Evaluated in a sandboxed worker process, bounded in time and memory.
                shaped = await self._template(endpoint).evaluate_async(envelope)
            except TemplateError as exc:
                raise ShapingFailed(f"template failed: {exc}") from exc
            return orjson.dumps(shaped)
        return orjson.dumps(envelope)

    def _template(self, endpoint: EndpointConfig) -> CompiledTemplate:
        key = (endpoint.id, endpoint.updated_at)
        compiled = self._templates.get(key)
        if compiled is None:
            assert endpoint.template is not None
            compiled = compile_template(endpoint.template)
            self._templates = {k: v for k, v in self._templates.items() if k[0] != endpoint.id}
            self._templates[key] = compiled
        return compiled


def request_headers(
    message: ClaimedMessage,
    endpoint: EndpointConfig,
    body: bytes,
    keys: list[bytes],
    timestamp: int,
) -> dict[str, str]:
    headers = dict(endpoint.headers)
    headers["content-type"] = "application/json"
    headers["user-agent"] = USER_AGENT
    if message.is_test:
        headers[TEST_HEADER] = "true"
    headers.update(delivery_headers(keys, message.id, timestamp, body))
    return headers
