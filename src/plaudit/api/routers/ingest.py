"""The push URL: `POST /ingest/<token>`. No API key: the token names the source and the
source's verification scheme authenticates the sender.

Answers: 202 `{"receipt_id", "status", "accepted", "rejected", "duplicates"}` once the raw
request is stored and processed (per-record rejects are in the receipt); 401 when
verification fails, 413 over the size limit, 415 for a content type no parser reads, 400 for
a body that cannot be split into records; 404 for an unknown token. Every answer but the 404
carries the receipt id: the request is stored whatever happened to it.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from plaudit.api.dependencies import AppContainer
from plaudit.api.routing import GatedRouter
from plaudit.domain.errors import NotFound
from plaudit.ingest.models import RawRequest, Receipt

router = GatedRouter(prefix="/ingest", tags=["ingest"])
_STATUS = {"payload_too_large": 413, "unsupported_media_type": 415}
_AUTH_CODES = frozenset(
    {
        "missing_signature",
        "invalid_signature",
        "invalid_timestamp",
        "stale_timestamp",
        "invalid_credentials",
        "no_live_secret",
    }
)


@router.post("/{token}", status_code=202, summary="Push data to a source")
async def ingest(token: str, request: Request, container: AppContainer) -> JSONResponse:
    source = await container.ingest_sources.by_token(token)
    if source is None:
        raise NotFound("no source at this URL", code="source_not_found")
    limit = container.settings.ingest_max_body_bytes
    raw = await _read(request, limit)
    receipt = await container.ingest.receive(source, raw)
    return _answer(receipt)


async def _read(request: Request, limit: int) -> RawRequest:
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
    content_type = request.headers.get("content-type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return RawRequest(headers, b"", content_type, int(declared), truncated=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return RawRequest(headers, b"", content_type, size, truncated=True)
        chunks.append(chunk)
    return RawRequest(headers, b"".join(chunks), content_type, size)


def _answer(receipt: Receipt) -> JSONResponse:
    if receipt.reject_code is None:
        return JSONResponse(
            {
                "receipt_id": receipt.id,
                "status": receipt.status,
                "accepted": receipt.accepted,
                "rejected": receipt.rejected,
                "duplicates": receipt.duplicates,
            },
            status_code=202,
        )
    code = receipt.reject_code
    status = 401 if code in _AUTH_CODES else _STATUS.get(code, 400)
    body = {
        "error": {
            "code": code,
            "message": receipt.reject_reason,
            "details": {"receipt_id": receipt.id},
        }
    }
    return JSONResponse(body, status_code=status)
