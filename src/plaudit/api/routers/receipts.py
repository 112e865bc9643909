"""Receipts: what became of one inbound request, record by record."""

from __future__ import annotations

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.ingest_schemas import ReceiptDetailOut
from plaudit.api.routing import GatedRouter

router = GatedRouter(
    prefix="/api/v1/receipts", tags=["sources"], responses=error_responses(401, 403)
)


@router.get("/{receipt_id}", summary="One request and the result per record",
            responses=error_responses(404))  # fmt: skip
async def get_receipt(
    receipt_id: str, principal: AdminPrincipal, container: AppContainer
) -> ReceiptDetailOut:
    found = await container.ingest_queries.receipt(principal.environment_id, receipt_id)
    return ReceiptDetailOut(**found)
