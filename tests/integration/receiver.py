"""A real HTTP(S) receiver on loopback that records what it gets and misbehaves on request.

Behaviour is chosen per path:
  /ok            200
  /status/<n>    answers status n (410, 500, 302 to itself, ...)
  /flaky/<k>     500 for the first k requests of each webhook-id, then 200
  /throttle/<s>  429 with Retry-After: s for the first request of each webhook-id, then 200
  /hang          never answers (until the client gives up)
  /slow/<ms>     200 after ms milliseconds
  /reset         drops the connection without answering
  /garbage       answers bytes that are not HTTP
  /endless       200 with a body that never ends
  /cookie        200 with a Set-Cookie header
  /drip          200, then a body of one byte every 200 ms, forever
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass
class Receiver:
    requests: list[Received] = field(default_factory=list)
    _seen: Counter[str] = field(default_factory=Counter)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _raw_server: asyncio.Server | None = None

    async def start(self, tls: ssl.SSLContext | None = None) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        port = server.sockets[0].getsockname()[1]
        scheme = "https" if tls else "http"
        host = "localhost" if tls else "127.0.0.1"
        self.base_url = f"{scheme}://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def for_path(self, prefix: str) -> list[Received]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    async def wait_for(
        self, count: int, prefix: str = "/", timeout: float = 10.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        async with self._arrived:
            while len(self.for_path(prefix)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} requests to {prefix}, got {len(self.for_path(prefix))}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), remaining)
        return self.for_path(prefix)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        received = Received(
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        self.requests.append(received)
        self._seen[received.webhook_id + request.path] += 1
        seen = self._seen[received.webhook_id + request.path]
        async with self._arrived:
            self._arrived.notify_all()
        parts = request.path.strip("/").split("/")
        kind, arg = parts[0], (parts[1] if len(parts) > 1 else "")
        if kind == "status":
            code = int(arg)
            headers = {"Location": request.path} if 300 <= code < 400 else None
            return web.Response(status=code, headers=headers, text=f"status {code}")
        if kind == "flaky":
            return web.Response(status=500 if seen <= int(arg) else 200, text="flaky")
        if kind == "throttle":
            if seen == 1:
                return web.Response(status=429, headers={"Retry-After": arg}, text="slow down")
            return web.Response(text="ok")
        if kind == "hang":
            await asyncio.sleep(3600)
        if kind == "slow":
            await asyncio.sleep(int(arg) / 1000)
        if kind == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if kind == "garbage":
            assert request.transport is not None
            request.transport.write(b"NOT HTTP AT ALL\r\n\r\n")
            request.transport.close()
            return web.Response()
        if kind == "drip":
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(100_000):
                await response.write(b"x")
                await asyncio.sleep(0.2)
            return response
        if kind == "cookie":
            response = web.Response(text="ok")
            response.set_cookie("session", "from-the-receiver")
            return response
        if kind == "endless":
            response = web.StreamResponse()
            await response.prepare(request)
            chunk = b"x" * 65536
            for _ in range(100_000):
                await response.write(chunk)
            return response
        return web.Response(text="ok")
