"""A source's push as a sender makes it: an HMAC-signed JSON body, straight into the pipeline
(HTTP left out: it is the same ASGI cost for any handler)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable

from plaudit.app_container import Container
from plaudit.ingest.models import RawRequest, Source


def pusher(container: Container, source: Source) -> Callable[[bytes], Awaitable[None]]:
    """Push one body through `IngestPipeline.receive`; every record must load."""
    secret = source.verification.secrets[0].value.encode()

    async def push(body: bytes) -> None:
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        raw = RawRequest(
            headers=[("content-type", "application/json"), ("x-signature", signature)],
            body=body,
            content_type="application/json",
        )
        receipt = await container.ingest.receive(source, raw)
        assert receipt.loaded == receipt.records, receipt

    return push
