"""Connect: the read-only API customers' own apps use (`/connect/v1`, scope `connect:read`).

What lives here is what only Connect needs: the per-key rate limit (`rate_limit`), entity
tags (`etag`) and the events feed (`events_feed`). Everything else is read through the
engagement services (and so will incentives be), so Connect and the admin API never
disagree about the data; `plaudit.api.connect.schemas` turns their records into the public
shapes.

Adding an endpoint (see `plaudit.api.routers.connect`):

1. Write a response model in `plaudit.api.connect.schemas` with an `of(record)`
   constructor: explicit fields, each documented; leave out whatever a customer's app has
   no business seeing (e.g. a user's birth year, idempotency keys).
2. Add a module under `plaudit/api/routers/connect/` with
   `router = connect_router(tags=["..."])` and `principal: ConnectReader` on each route;
   read with `principal.environment_id` only, so another environment's ids are 404s.
   Lists take `Limit` / `Cursor` (`plaudit.api.routers.connect.params`) and return
   `ListResponse[...]`; filters are plain query parameters, as on the admin API.
3. List the router in `plaudit.api.routers.connect.ROUTERS`.
4. Test it in tests/integration/connect/ (happy path, filters, pages, a 404 for another
   environment's id); the schemathesis acceptance test picks it up by itself.

The router gives every route authentication, the rate limit, `ETag` / `If-None-Match`
(304), `Cache-Control` and the matching OpenAPI entries; nothing per route.
"""
