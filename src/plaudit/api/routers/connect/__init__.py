"""The Connect API (`/connect/v1`): read-only, for customers' own apps.

Each module holds one resource's routes on a `connect_router(...)`; list it in ROUTERS
and `create_app` mounts it. See `plaudit.connect` for how to add an endpoint.
"""

from __future__ import annotations

from fastapi import APIRouter

from plaudit.api.routers.connect import (
    campaigns,
    events,
    groups,
    payouts,
    points,
    recognitions,
    redemptions,
    users,
)

ROUTERS: tuple[APIRouter, ...] = (
    users.router,
    groups.router,
    recognitions.router,
    redemptions.router,
    points.router,
    events.router,
    campaigns.router,
    payouts.router,
)
