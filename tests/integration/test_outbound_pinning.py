"""The outbound guard against a real HTTPS server on 127.0.0.1 (trustme CA, cert for localhost).

Real sockets, real TLS, the real delivery client; only DNS is replaced, and only where the
test is about changing DNS answers (the rebinding/pinning cases).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiohttp import web
from yarl import URL

from plaudit.delivery.http_client import OutboundClient
from plaudit.delivery.models import AttemptResult, Outcome
from plaudit.delivery.outbound_rules import OutboundPolicy, UrlRefused, check_url_resolves
from plaudit.delivery.sender import post

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


class FlippingResolver:
    """Stub DNS whose answer changes between lookups (a rebinding attacker's name server)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        addresses = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return addresses


async def _post(
    client: OutboundClient, url: str, body: bytes = b'{"type":"ping"}'
) -> AttemptResult:
    return await post(client, URL(url), body, {"content-type": "application/json"}, 10)


# --------------------------------------------------------------------------- (a) refused


async def test_default_policy_refuses_localhost_before_connecting(endpoint: Endpoint) -> None:
    client = OutboundClient(OutboundPolicy())
    result = await _post(client, f"https://localhost:{endpoint.port}/")
    assert result.outcome is Outcome.ADDRESS_REFUSED
    assert result.error is not None
    assert result.error.startswith("localhost resolves to ")
    assert result.error.endswith(", a loopback address")
    assert endpoint.connections == 0
    assert endpoint.requests == []


async def test_default_policy_refuses_ip_literal(endpoint: Endpoint) -> None:
    client = OutboundClient(OutboundPolicy())
    result = await _post(client, f"https://127.0.0.1:{endpoint.port}/")
    assert result.outcome is Outcome.ADDRESS_REFUSED
    assert result.error == "127.0.0.1 is a loopback address"
    assert endpoint.connections == 0


# --------------------------------------------------------------------------- (b) allowed


async def test_allow_cidrs_and_ca_bundle_deliver_with_verified_tls(
    endpoint: Endpoint, tls: TlsFiles
) -> None:
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, str(tls.ca_pem))
    client = OutboundClient(policy)
    result = await _post(client, f"https://localhost:{endpoint.port}/")
    assert (result.outcome, result.status_code) == (Outcome.SUCCESS, 200)
    assert result.response_body == '{"ok": true}'
    assert endpoint.requests == [b'{"type":"ping"}']
    assert endpoint.local_addresses == ["127.0.0.1"]
    assert endpoint.tls_versions[0] in {"TLSv1.2", "TLSv1.3"}
    assert endpoint.sni == ["localhost"]  # SNI is the host name, not the pinned address
    await client.close()


async def test_ip_literal_allowed_by_allow_cidrs(endpoint: Endpoint, tls: TlsFiles) -> None:
    # The certificate also names 127.0.0.1, so TLS verifies against the literal.
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, str(tls.ca_pem))
    client = OutboundClient(policy)
    result = await _post(client, f"https://127.0.0.1:{endpoint.port}/")
    assert result.status_code == 200
    assert len(endpoint.requests) == 1
    await client.close()


# --------------------------------------------------------------------------- (c) TLS


async def test_without_ca_bundle_tls_verification_fails(endpoint: Endpoint) -> None:
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, None)
    client = OutboundClient(policy)
    result = await _post(client, f"https://localhost:{endpoint.port}/")
    assert result.outcome is Outcome.TLS_ERROR  # a TLS failure, not a policy refusal
    assert result.error is not None
    assert "certificate" in result.error.lower()
    assert endpoint.requests == []
    await client.close()


async def test_plain_http_is_refused_unless_allowed(endpoint: Endpoint, tls: TlsFiles) -> None:
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, str(tls.ca_pem))
    client = OutboundClient(policy)
    result = await _post(client, f"http://localhost:{endpoint.port}/")
    assert result.outcome is Outcome.CONNECTION_ERROR
    assert endpoint.connections == 0
    await client.close()


# --------------------------------------------------------------------------- (d) pinning


async def test_client_connects_only_to_checked_answers_and_rechecks_on_expiry(
    endpoint: Endpoint, tls: TlsFiles
) -> None:
    policy = OutboundPolicy.from_settings(False, "127.0.0.0/8", str(tls.ca_pem))
    dns = FlippingResolver(["127.0.0.1"], ["10.0.0.1"])
    client = OutboundClient(policy, resolver=dns, dns_ttl_s=1)
    url = f"https://localhost:{endpoint.port}/"
    assert (await _post(client, url, b"1")).status_code == 200
    # within the TTL the checked answer is reused: no second lookup
    assert (await _post(client, url, b"2")).status_code == 200
    assert dns.calls == 1

    await asyncio.sleep(1.2)  # the answer is stale: resolve again, and check again
    refused = await _post(client, url, b"3")
    assert dns.calls == 2
    assert refused.outcome is Outcome.ADDRESS_REFUSED
    assert refused.error == "localhost resolves to 10.0.0.1, a private address"
    assert endpoint.requests == [b"1", b"2"]  # nothing else was sent
    assert endpoint.local_addresses == ["127.0.0.1", "127.0.0.1"]  # the checked answer
    assert set(endpoint.sni) == {"localhost"}
    await client.close()


async def test_mixed_answers_refuse_the_whole_host(endpoint: Endpoint, tls: TlsFiles) -> None:
    policy = OutboundPolicy.from_settings(False, "127.0.0.0/8", str(tls.ca_pem))
    url = f"https://localhost:{endpoint.port}/"
    with pytest.raises(UrlRefused) as info:
        await check_url_resolves(url, policy, FlippingResolver(["127.0.0.1", "10.0.0.1"]))
    assert info.value.reason == "localhost resolves to 10.0.0.1, a private address"

    # and at delivery time the allowed half is not used either
    client = OutboundClient(policy, resolver=FlippingResolver(["127.0.0.1", "10.0.0.1"]))
    result = await _post(client, url)
    assert result.outcome is Outcome.ADDRESS_REFUSED
    assert endpoint.connections == 0


async def test_check_url_resolves_accepts_allowed_host(tls: TlsFiles) -> None:
    policy = OutboundPolicy.from_settings(False, LOOPBACK_ALLOWED, None)
    await check_url_resolves("https://localhost:8443/hook", policy)  # real resolver
