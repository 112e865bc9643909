"""An environment where every Connect read has something to answer, made the way a customer
makes it: the admin API for people, rewards and campaigns, a source's signed push URL for
the sales data, and the server's own period-end run for the payouts.

* People: five employees (one inactive), a team (followed by the campaigns) and a
  department; one employee takes part by name, with a personal target.
* A monthly points campaign running from two months ago to next month: the two ended
  periods are settled by `plaudit serve`'s payout run (`PLAUDIT_PAYOUTS_INTERVAL_S`), the
  current one moves live. Milestones with rewards, an overall board and a per-group board,
  both with rank rewards.
* A cash campaign over last month only, auto-approved, then closed; and a draft.
* Payouts in every state: waiting, approved, revoked (refused while waiting) and reversed
  (undone once approved), of every kind.
* Recognitions, a redemption with its voucher, and so a points ledger and an events feed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson

from tests.integration.incentives.helpers import campaign_body
from tests.integration.ingest.helpers import DEAL_TEMPLATE, deal, hmac_signature

SETTLE_TIMEOUT_S = 20.0
# Seed settings for `plaudit serve`: its period-end run settles the seeded periods at once.
SERVE_SETTINGS = {"payouts_interval_s": 0.5}


@dataclass
class Seeded:
    """The ids a generated request should name to find something."""

    user_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    campaign_ids: list[str] = field(default_factory=list)
    leaderboard_ids: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    payout_ids: list[str] = field(default_factory=list)
    recognition_ids: list[str] = field(default_factory=list)
    redemption_ids: list[str] = field(default_factory=list)
    reward_ids: list[str] = field(default_factory=list)


class Admin:
    """The admin API with one key; every call must succeed."""

    def __init__(self, http: httpx.Client, key: str) -> None:
        self.http = http
        self.auth = {"Authorization": f"Bearer {key}"}

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> dict[str, Any]:
        response = self.http.request(method, path, headers=self.auth, json=body, params=params)
        assert response.status_code in (200, 201), f"{method} {path}: {response.text}"
        found: dict[str, Any] = response.json()
        return found

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        return self.call("POST", path, body)

    def payouts(self, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.call("GET", "/api/v1/payouts", limit=200, **params)[
            "data"
        ]
        return found


def _month(first: date, offset: int) -> date:
    index = first.year * 12 + first.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def _last_day(first: date, *, months: int) -> date:
    return _month(first, months) - timedelta(days=1)


def _at(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def seed(http: httpx.Client, admin_key: str) -> Seeded:
    admin = Admin(http, admin_key)
    seeded = Seeded()
    people = _people(admin, seeded)
    this_month = datetime.now(UTC).date().replace(day=1)
    months = [_month(this_month, offset) for offset in (-2, -1, 0)]
    seeded.periods = [m.isoformat() for m in months]
    source = admin.post(
        "/api/v1/sources",
        {
            "name": "CRM deals",
            "kind": "webhook",
            "record_type": "transaction",
            "template": DEAL_TEMPLATE,
            "verification": {"type": "hmac"},
        },
    )
    ended, running = _deals(months)
    _push(http, source, ended)  # the ended periods: loaded before the campaigns start
    monthly = _monthly_campaign(admin, seeded, people, months)
    bonus = _bonus_campaign(admin, seeded, people, months[1])
    _push(http, source, running)  # the running period: moves the live campaign
    admin.post("/api/v1/campaigns", _campaign_body("Next idea (draft)", months[2]))
    _settled(admin, monthly, bonus)
    _decide(admin, monthly, bonus)
    _engagement(admin, seeded, people)
    seeded.payout_ids = [p["id"] for p in admin.payouts()]
    return seeded


def _people(admin: Admin, seeded: Seeded) -> dict[str, dict[str, Any]]:
    employees = {
        "ada": {"name": "Ada", "email": "ada@example.com", "birth_date": "1990-02-28"},
        "bob": {"name": "Bob", "email": "bob@example.com", "department": "Sales"},
        "cyd": {"name": "Cyd", "email": "cyd@example.com", "hire_date": "2021-06-01"},
        "dan": {"name": "Dan", "email": "dan@example.com", "external_id": "HR-4"},
        "eve": {"name": "Eve", "email": "eve@example.com", "status": "inactive"},
    }
    people = {key: admin.post("/api/v1/employees", body) for key, body in employees.items()}
    team = admin.post("/api/v1/groups", {"name": "Team", "kind": "team"})
    admin.call(
        "PUT",
        f"/api/v1/groups/{team['id']}/members",
        {"employee_ids": [people[k]["id"] for k in ("ada", "bob", "cyd")]},
    )
    sales = admin.post("/api/v1/groups", {"name": "Sales", "kind": "department"})
    admin.call(
        "PUT",
        f"/api/v1/groups/{sales['id']}/members",
        {"employee_ids": [people[k]["id"] for k in ("bob", "dan")]},
    )
    seeded.user_ids = [p["id"] for p in people.values()]
    seeded.group_ids = [team["id"], sales["id"]]
    return {**people, "team": team}


def _deals(months: list[date]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Won (and one lost) deals: two ended months before the campaigns start, then this
    month's, with a correction."""
    old, last, now = months

    def on(day: date, deal_id: str, owner: str, amount: str, **extra: Any) -> dict[str, Any]:
        return deal(deal_id, f"{owner}@example.com", amount, closed_at=_at(day), **extra)

    ended = [
        on(old, "D-1", "ada", "700"), on(old, "D-2", "ada", "500"),
        on(old, "D-3", "bob", "500"), on(old, "D-4", "cyd", "150"),
        on(last, "D-5", "ada", "600"), on(last, "D-6", "bob", "1100"),
        on(last, "D-7", "dan", "300"), on(last, "D-8", "cyd", "90", stage="lost"),
    ]  # fmt: skip
    # Midnight on the 1st: inside the running period whatever the time now.
    running = [
        on(now, "D-9", "ada", "300"), on(now, "D-10", "bob", "200"),
        on(now, "D-11", "dan", "900"), on(now, "D-10", "bob", "250", action="update"),
    ]  # fmt: skip
    return ended, running


def _push(http: httpx.Client, source: dict[str, Any], deals: list[dict[str, Any]]) -> None:
    body = orjson.dumps({"records": deals})
    signature = hmac_signature(source["secret"], body)
    url: str = source["ingest_url"]
    response = http.post(
        url[url.index("/ingest/") :],
        content=body,
        headers={"content-type": "application/json", "x-signature": signature},
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (len(deals), 0), answer


def _campaign_body(name: str, start: date, **overrides: Any) -> dict[str, Any]:
    """A month of won revenue (weight 2) and deal count; points on the tiered rule."""
    base = campaign_body()
    metrics = [
        {**base["metrics"][0], "weight": "2"},
        {**base["metrics"][0], "key": "deals", "aggregation": "count", "target": "2"},
    ]
    return (
        campaign_body(
            name=name,
            period={"start": start.isoformat(), "end": _last_day(start, months=1).isoformat()},
            reward={"type": "points"},
            metrics=metrics,
            payout={**base["payout"], "cap": "500", "min_attainment_percent": "20"},
            milestones=[],
            leaderboards=[],
        )
        | overrides
    )


def _monthly_campaign(
    admin: Admin, seeded: Seeded, people: dict[str, dict[str, Any]], months: list[date]
) -> str:
    team = people["team"]["id"]
    body = _campaign_body(
        "Monthly revenue",
        months[0],
        milestones=[
            {"threshold_percent": "50", "reward": {"points": 100}},
            {"threshold_percent": "100", "reward": {"points": 500}},
        ],
        leaderboards=[
            {
                "rank_by": "revenue",
                "top_n": 3,
                "min_interval_s": 0,
                "rewards": [
                    {"rank": 1, "points": 300},
                    {"from_rank": 2, "to_rank": 3, "points": 100},
                ],
            },
            {
                "rank_by": "attainment",
                "top_n": 2,
                "group_id": team,
                "min_interval_s": 0,
                "rewards": [{"rank": 1, "points": 50}],
            },
        ],
    )
    # Two ended months, the running one and the next.
    body["period"] |= {"end": _last_day(months[0], months=4).isoformat(), "recurrence": "monthly"}
    return _start(admin, seeded, people, body, close=False)


def _bonus_campaign(
    admin: Admin, seeded: Seeded, people: dict[str, dict[str, Any]], month: date
) -> str:
    body = _campaign_body(
        "Last month's bonus",
        month,
        reward={"type": "cash", "currency": "EUR"},
        auto_approve=True,
        payout={"metric": "revenue", "rate": "0.02"},
        milestones=[{"threshold_percent": "50", "reward": {"amount": "25.005"}}],
        leaderboards=[{"rank_by": "revenue", "top_n": 2, "rewards": [{"rank": 1, "amount": "40"}]}],
    )
    return _start(admin, seeded, people, body, close=True)


def _start(
    admin: Admin,
    seeded: Seeded,
    people: dict[str, dict[str, Any]],
    body: dict[str, Any],
    *,
    close: bool,
) -> str:
    """Create, add the team (followed) and Dan (named, own target), activate: activation
    computes the deals already loaded (milestones reached, boards ranked)."""
    campaign = admin.post("/api/v1/campaigns", body)
    path = f"/api/v1/campaigns/{campaign['id']}"
    admin.post(f"{path}/participants", {"group_ids": [people["team"]["id"]]})
    admin.post(
        f"{path}/participants",
        {"employee_ids": [people["dan"]["id"]], "targets": {"revenue": "800"}},
    )
    started = admin.post(f"{path}/activate")
    if close:
        admin.post(f"{path}/close")
    seeded.campaign_ids.append(campaign["id"])
    seeded.leaderboard_ids += [board["id"] for board in started["leaderboards"]]
    return str(campaign["id"])


def _settled(admin: Admin, *campaign_ids: str) -> None:
    """Wait for the server's period-end run (one transaction settles every ended period)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not all(admin.payouts(campaign_id=c, kind="period") for c in campaign_ids):
        assert time.monotonic() < deadline, "the ended periods were not settled"
        time.sleep(0.1)


def _decide(admin: Admin, monthly: str, bonus: str) -> None:
    """Approve the oldest period's payouts, reverse one of them, revoke one still waiting;
    reverse one of the (auto-approved) cash payouts."""
    waiting = admin.payouts(campaign_id=monthly, status="waiting_approval")
    oldest = min(p["period"]["start"] for p in waiting)
    approved = [p["id"] for p in waiting if p["period"]["start"] == oldest]
    admin.post("/api/v1/payouts/approve", {"payout_ids": approved})
    admin.post(f"/api/v1/payouts/{approved[0]}/revoke")
    left = [p["id"] for p in waiting if p["id"] not in approved]
    admin.post(f"/api/v1/payouts/{left[0]}/revoke")
    cash = admin.payouts(campaign_id=bonus, status="approved")
    admin.post(f"/api/v1/payouts/{cash[0]['id']}/revoke")


def _engagement(admin: Admin, seeded: Seeded, people: dict[str, dict[str, Any]]) -> None:
    ada, bob, cyd = (people[k]["id"] for k in ("ada", "bob", "cyd"))
    recognitions = [
        admin.post(
            "/api/v1/recognitions",
            {"giver_id": bob, "receiver_ids": [ada], "message": "Hi", "points": 50},
        ),
        admin.post(
            "/api/v1/recognitions",
            {"giver_id": ada, "receiver_ids": [bob, cyd], "message": "Great quarter"},
        ),
    ]
    admin.post(f"/api/v1/employees/{people['dan']['id']}/points", {"kind": "earn", "points": 40})
    reward = admin.post(
        "/api/v1/rewards",
        {"name": "Book", "point_cost": 20, "value": {"amount": "10.00", "currency": "EUR"}},
    )
    redemption = admin.post("/api/v1/redemptions", {"employee_id": ada, "reward_id": reward["id"]})
    seeded.recognition_ids = [r["id"] for r in recognitions]
    seeded.reward_ids = [reward["id"]]
    seeded.redemption_ids = [redemption["id"]]
