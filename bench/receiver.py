"""A fast webhook receiver for benchmarks: answers 204, remembers when each event arrived.

Run as `python bench/receiver.py PORT`. `GET /arrivals` returns {key: unix time} where the
key is `data.employee.id` of each event received (the benchmark puts a sequence there);
`GET /distinct` just how many keys arrived, cheap enough to poll.
"""

from __future__ import annotations

import sys
import time

import orjson
import uvloop
from aiohttp import web

arrivals: dict[str, float] = {}
count = 0


async def hook(request: web.Request) -> web.Response:
    global count
    body = await request.read()
    now = time.time()
    count += 1
    try:
        key = orjson.loads(body)["data"]["employee"]["id"]
        arrivals.setdefault(key, now)
    except (ValueError, KeyError, TypeError):
        pass
    return web.Response(status=204)


async def report(_request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps({"count": count, "arrivals": arrivals}))


async def distinct(_request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps({"distinct": len(arrivals)}))


async def reset(_request: web.Request) -> web.Response:
    global count
    arrivals.clear()
    count = 0
    return web.Response(status=204)


def main() -> None:
    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/arrivals", report)
    app.router.add_get("/distinct", distinct)
    app.router.add_post("/reset", reset)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
