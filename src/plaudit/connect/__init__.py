"""Connect: the read-only API customers' own apps use (`/connect/v1`, scope `connect:read`).

What lives here is what only Connect needs: the per-key rate limit (`rate_limit`), entity
tags (`etag`), the events feed (`events_feed`) and the public views of engagement records
(`views`). Everything else is read through the engagement services, so Connect and the
admin API never disagree about the data.

Adding an endpoint (see `plaudit.api.routers.connect`):

1. Write a response model in `plaudit.api.connect.schemas`: explicit fields, each
   documented; leave out whatever a customer's app has no business seeing.
2. Add a module under `plaudit/api/routers/connect/` with
   `router = connect_router(tags=["..."])` and `principal: ConnectReader` on each route;
   read with `principal.environment_id` only, so another environment's ids are 404s.
   Lists take `limit` / `cursor` and return `ListResponse[...]`.
3. List the router in `plaudit.api.routers.connect.ROUTERS`.

The router gives every route authentication, the rate limit, `ETag` / `If-None-Match`
(304), `Cache-Control` and the matching OpenAPI entries; nothing per route.
"""
