"""The outbound guard against a real HTTPS server on 127.0.0.1 (trustme CA, cert for localhost).

Real sockets, real TLS, aiohttp's real connector; only DNS is replaced, and only where the
test is about changing DNS answers (the rebinding/pinning cases).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from plaudit.delivery.outbound_guard import (
    AddressRefused,
    GuardedResolver,
    OutboundPolicy,
    UrlRefused,
    check_url_resolves,
    find_refusal,
    make_connector,
)

TIMEOUT = aiohttp.ClientTimeout(total=10)
LOOPBACK_ALLOWED = "127.0.0.0/8,::1/128"  # ::1 too: localhost may also resolve to it


@dataclass
class TlsFiles:
    ca: trustme.CA
    ca_pem: Path
    server_context: ssl.SSLContext


@dataclass
class Endpoint:
    port: int
    connections: int = 0
    sni: list[str | None] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    local_addresses: list[str] = field(default_factory=list)
    tls_versions: list[str | None] = field(default_factory=list)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca_pem = tmp_path_factory.mktemp("outbound-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return TlsFiles(ca=ca, ca_pem=ca_pem, server_context=context)


@pytest.fixture
async def endpoint(tls: TlsFiles) -> AsyncIterator[Endpoint]:
    """An HTTPS webhook receiver on 127.0.0.1 that records connections, SNI and bodies."""
    state = Endpoint(port=0)

    async def receive(request: web.Request) -> web.Response:
        state.requests.append(await request.read())
        assert request.transport is not None
        state.local_addresses.append(request.transport.get_extra_info("sockname")[0])
        ssl_object = request.transport.get_extra_info("ssl_object")
        state.tls_versions.append(ssl_object.version() if ssl_object is not None else None)
        return web.json_response({"ok": True})

    def on_sni(sslobj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        state.sni.append(name)

    tls.server_context.sni_callback = on_sni
    app = web.Application()
    app.router.add_post("/", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    handler = runner.server
    assert handler is not None

    def protocol() -> asyncio.Protocol:
        state.connections += 1
        return handler()

    server = await asyncio.get_running_loop().create_server(
        protocol, "127.0.0.1", 0, ssl=tls.server_context
    )
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()
        await runner.cleanup()


class FlippingResolver(AbstractResolver):
    """Stub DNS whose answer changes between lookups (a rebinding attacker's name server)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass


async def _post(connector: aiohttp.TCPConnector, url: str) -> int:
    async with (
        aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session,
        session.post(url, data=b'{"type":"ping"}', allow_redirects=False) as resp,
    ):
        await resp.read()
        return resp.status


# --------------------------------------------------------------------------- (a) refused


async def test_default_policy_refuses_localhost_before_connecting(endpoint: Endpoint) -> None:
    connector = make_connector(OutboundPolicy())
    with pytest.raises(aiohttp.ClientConnectorDNSError) as info:
        await _post(connector, f"https://localhost:{endpoint.port}/")
    refusal = find_refusal(info.value)
    assert refusal is not None
    assert refusal.retryable is False
    assert refusal.reason.startswith("localhost resolves to ")
    assert refusal.reason.endswith(", a loopback address")
    assert isinstance(info.value.os_error, AddressRefused)
    assert endpoint.connections == 0
    assert endpoint.requests == []


async def test_default_policy_refuses_ip_literal_at_connect(endpoint: Endpoint) -> None:
    # aiohttp does not consult resolvers for IP literals: the socket-factory backstop refuses
    connector = make_connector(OutboundPolicy())
    with pytest.raises(aiohttp.ClientConnectorError) as info:
        await _post(connector, f"https://127.0.0.1:{endpoint.port}/")
    refusal = find_refusal(info.value)
    assert refusal is not None
    assert refusal.reason == "127.0.0.1 is a loopback address"
    assert endpoint.connections == 0
    assert endpoint.requests == []


# --------------------------------------------------------------------------- (b) allowed


async def test_allow_cidrs_and_ca_bundle_deliver_with_verified_tls(
    endpoint: Endpoint, tls: TlsFiles
) -> None:
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, str(tls.ca_pem))
    async with (
        aiohttp.ClientSession(connector=make_connector(policy), timeout=TIMEOUT) as session,
        session.post(f"https://localhost:{endpoint.port}/", json={"type": "ping"}) as resp,
    ):
        assert resp.status == 200
        assert await resp.json() == {"ok": True}
    assert endpoint.requests == [b'{"type": "ping"}']
    assert endpoint.local_addresses == ["127.0.0.1"]
    assert endpoint.tls_versions[0] in {"TLSv1.2", "TLSv1.3"}
    assert endpoint.sni == ["localhost"]  # SNI is the host name, not the pinned address


async def test_ip_literal_allowed_by_allow_cidrs(endpoint: Endpoint, tls: TlsFiles) -> None:
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, str(tls.ca_pem))
    assert await _post(make_connector(policy), f"https://127.0.0.1:{endpoint.port}/") == 200
    assert len(endpoint.requests) == 1


# --------------------------------------------------------------------------- (c) TLS


async def test_without_ca_bundle_tls_verification_fails(endpoint: Endpoint) -> None:
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, None)
    with pytest.raises(aiohttp.ClientConnectorCertificateError) as info:
        await _post(make_connector(policy), f"https://localhost:{endpoint.port}/")
    assert isinstance(info.value.certificate_error, ssl.SSLCertVerificationError)
    assert find_refusal(info.value) is None  # a TLS failure, not a policy refusal
    assert endpoint.requests == []


# --------------------------------------------------------------------------- (d) pinning


async def test_guarded_resolver_checks_each_answer_it_returns() -> None:
    policy = OutboundPolicy.from_settings(False, "127.0.0.0/8", None)
    guarded = GuardedResolver(policy, inner=FlippingResolver(["127.0.0.1"], ["10.0.0.1"]))
    first = await guarded.resolve("localhost", 443, socket.AF_UNSPEC)
    assert [answer["host"] for answer in first] == ["127.0.0.1"]
    with pytest.raises(AddressRefused) as info:
        await guarded.resolve("localhost", 443, socket.AF_UNSPEC)
    assert info.value.reason == "localhost resolves to 10.0.0.1, a private address"


async def test_connector_connects_only_to_checked_answers_and_rechecks_on_expiry(
    endpoint: Endpoint, tls: TlsFiles
) -> None:
    policy = OutboundPolicy.from_settings(False, "127.0.0.0/8", str(tls.ca_pem))
    dns = FlippingResolver(["127.0.0.1"], ["10.0.0.1"])
    connector = make_connector(policy, inner_resolver=dns, ttl_dns_cache=1)
    url = f"https://localhost:{endpoint.port}/"
    close = {"Connection": "close"}  # a fresh connection (and DNS lookup) for each request
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:
        async with session.post(url, data=b"1", headers=close) as resp:
            assert resp.status == 200
        # within the TTL the checked answer is reused: no second lookup
        async with session.post(url, data=b"2", headers=close) as resp:
            assert resp.status == 200
        assert dns.calls == 1
        assert endpoint.connections == 2

        await asyncio.sleep(1.2)  # cache expires: resolve again, and check again
        with pytest.raises(aiohttp.ClientConnectorDNSError) as info:
            await session.post(url, data=b"3", headers=close)
    assert dns.calls == 2
    refusal = find_refusal(info.value)
    assert refusal is not None
    assert refusal.reason == "localhost resolves to 10.0.0.1, a private address"
    assert endpoint.connections == 2  # nothing else was connected
    assert endpoint.requests == [b"1", b"2"]
    assert endpoint.local_addresses == ["127.0.0.1", "127.0.0.1"]  # the checked answer
    assert endpoint.sni == ["localhost", "localhost"]


async def test_mixed_answers_refuse_the_whole_host(endpoint: Endpoint, tls: TlsFiles) -> None:
    policy = OutboundPolicy.from_settings(False, "127.0.0.0/8", str(tls.ca_pem))
    url = f"https://localhost:{endpoint.port}/"
    with pytest.raises(UrlRefused) as info:
        await check_url_resolves(url, policy, FlippingResolver(["127.0.0.1", "10.0.0.1"]))
    assert info.value.reason == "localhost resolves to 10.0.0.1, a private address"

    # and at delivery time the allowed half is not used either
    connector = make_connector(policy, inner_resolver=FlippingResolver(["127.0.0.1", "10.0.0.1"]))
    with pytest.raises(aiohttp.ClientConnectorDNSError) as dns_error:
        await _post(connector, url)
    assert find_refusal(dns_error.value) is not None
    assert endpoint.connections == 0


async def test_check_url_resolves_accepts_allowed_host(tls: TlsFiles) -> None:
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, None)
    await check_url_resolves("https://localhost:8443/hook", policy)  # real resolver
