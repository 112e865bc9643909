"""An employee's monthly giving budget: what they may still hand out this month."""

from __future__ import annotations

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.recognition_schemas import GivingBudgetOut
from plaudit.api.routing import GatedRouter

router = GatedRouter(
    prefix="/api/v1/employees", tags=["recognitions"], responses=error_responses(401, 403)
)


@router.get(
    "/{employee_id}/giving-budget",
    summary="The employee's giving budget for the current month (UTC)",
    responses=error_responses(404),
)
async def get_giving_budget(
    employee_id: str, principal: AdminPrincipal, container: AppContainer
) -> GivingBudgetOut:
    budget = await container.giving_budget.get(principal.environment_id, employee_id)
    return GivingBudgetOut(**budget.to_json())
