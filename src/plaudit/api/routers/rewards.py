"""The rewards catalog: create, list, read, change (restock, price) and retire."""

from __future__ import annotations

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.rewards_schemas import RewardIn, RewardOut, RewardPatch
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.engagement.rewards import RewardSpec
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/rewards", tags=["rewards"], responses=error_responses(401, 403)
)
_WRITE_ERRORS = error_responses(400, 404, 409, 413, 415, 422)


@router.post(
    "",
    status_code=201,
    summary="Add a reward to the catalog",
    responses=error_responses(400, 413, 415, 422),
)
async def create_reward(
    body: RewardIn, principal: AdminPrincipal, container: AppContainer
) -> RewardOut:
    spec = RewardSpec(
        name=body.name,
        description=body.description,
        point_cost=body.point_cost,
        value=body.value.checked(),
        stock=body.stock,
        voucher_valid_days=body.voucher_valid_days,
        active=body.active,
    )
    reward = await container.rewards.create(principal.environment_id, spec)
    return RewardOut(**reward.to_json())


@router.get("", summary="List rewards", responses=error_responses(400, 422))
async def list_rewards(
    principal: AdminPrincipal,
    container: AppContainer,
    active: bool | None = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[RewardOut]:
    page = await container.rewards.list(
        principal.environment_id, active=active, limit=limit, cursor=cursor
    )
    return ListResponse[RewardOut].of(page, lambda r: RewardOut(**r.to_json()))


@router.get("/{reward_id}", summary="One reward", responses=error_responses(404))
async def get_reward(
    reward_id: str, principal: AdminPrincipal, container: AppContainer
) -> RewardOut:
    reward = await container.rewards.get(principal.environment_id, reward_id)
    return RewardOut(**reward.to_json())


@router.patch(
    "/{reward_id}",
    summary="Change a reward (send only what changes; `add_stock` restocks)",
    responses=_WRITE_ERRORS,
)
async def update_reward(
    reward_id: str, body: RewardPatch, principal: AdminPrincipal, container: AppContainer
) -> RewardOut:
    reward = await container.rewards.update(
        principal.environment_id, reward_id, body.changes(), add_stock=body.add_stock
    )
    return RewardOut(**reward.to_json())


@router.post(
    "/{reward_id}/retire",
    summary="Retire a reward: it stays listed but can no longer be redeemed",
    responses=error_responses(404),
)
async def retire_reward(
    reward_id: str, principal: AdminPrincipal, container: AppContainer
) -> RewardOut:
    reward = await container.rewards.retire(principal.environment_id, reward_id)
    return RewardOut(**reward.to_json())
