"""The HTTP client deliveries go out through: pyreqwest, pinned to checked addresses.

pyreqwest runs the HTTP work (connection pool, TLS, parsing) in Rust threads, outside the
GIL: measured here it costs about half the CPU per request of aiohttp's client, and that
CPU is what bounds a worker. Its clients resolve names themselves, so the guard works by
building one client per destination (scheme, host, port) whose name is mapped statically
(`resolve`) to an address this module resolved and checked against the policy; when that
answer is `dns_ttl_s` old the name is resolved and checked again, and a new client is
built if the answer changed. IP-literal URLs are checked directly. A name whose answers
include any refused address is refused as a whole (a rebinding answer mixing public and
private addresses).

Every client: no redirects, no proxy, no cookie store, no automatic decompression (the
response byte cap applies to what the receiver sent), HTTP/1.1, TLS 1.2 or newer, the
system trust store plus the operator's CA bundle, and https only unless the operator
allows plain http.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pyreqwest.client import Client, ClientBuilder
from yarl import URL

from plaudit.delivery.outbound_rules import (
    AddressRefused,
    OutboundPolicy,
    Resolver,
    address_refusal,
    answer_refusal,
    parse_ip,
    system_resolver,
)

_IDLE_CONNECTION_S = 30
# A client replaced after a DNS change may still carry requests in flight: it is closed
# once this is over (longer than any endpoint timeout).
_RETIRED_CLOSE_AFTER_S = 300


@dataclass(slots=True)
class _Pinned:
    client: Client
    addresses: tuple[str, ...]
    checked_at: float


class OutboundClient:
    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        resolver: Resolver = system_resolver,
        dns_ttl_s: float = 30.0,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._dns_ttl_s = dns_ttl_s
        self._ca_pem = _read_bundle(policy.ca_bundle)
        self._clients: dict[tuple[str, str, int], _Pinned] = {}
        self._retired: list[tuple[float, Client]] = []

    async def client_for(self, url: URL) -> Client:
        """A client that may send to `url`; raises AddressRefused or socket.gaierror."""
        host, port = url.raw_host or "", url.port or (443 if url.scheme == "https" else 80)
        key = (url.scheme, host, port)
        pinned = self._clients.get(key)
        now = time.monotonic()
        if pinned is not None and now - pinned.checked_at < self._dns_ttl_s:
            return pinned.client
        addresses = await self._checked_addresses(host, port)
        if pinned is not None and pinned.addresses == addresses:
            pinned.checked_at = now  # same answer: keep the pool and its open connections
            return pinned.client
        await self._close_retired(now)
        if pinned is not None:
            self._retired.append((now, pinned.client))
        client = self._build(host, port, addresses)
        self._clients[key] = _Pinned(client, addresses, now)
        return client

    async def _close_retired(self, now: float) -> None:
        keep: list[tuple[float, Client]] = []
        for retired_at, client in self._retired:
            if now - retired_at >= _RETIRED_CLOSE_AFTER_S:
                await client.close()
            else:
                keep.append((retired_at, client))
        self._retired = keep

    async def close(self) -> None:
        clients = [p.client for p in self._clients.values()] + [c for _, c in self._retired]
        self._clients.clear()
        self._retired.clear()
        for client in clients:
            await client.close()

    async def _checked_addresses(self, host: str, port: int) -> tuple[str, ...]:
        literal = parse_ip(host.strip("[]"))
        if literal is not None:
            refusal = address_refusal(literal, self._policy)
            if refusal is not None:
                raise AddressRefused(f"{literal} is {refusal}", host=None, address=str(literal))
            return ()  # nothing to pin: the client connects to the literal itself
        answers = await self._resolver(host, port)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, f"host {host} does not resolve")
        for address in answers:
            reason = answer_refusal(host, address, self._policy)
            if reason is not None:
                raise AddressRefused(reason, host=host, address=address)
        # Sorted: round-robin DNS reorders the same answer, which must not look like a change.
        return tuple(sorted(answers))

    def _build(self, host: str, port: int, addresses: tuple[str, ...]) -> Client:
        builder = (
            ClientBuilder()
            .follow_redirects(False)
            .no_proxy()
            .gzip(False)
            .brotli(False)
            .zstd(False)
            .deflate(False)
            .http1_only()
            .min_tls_version("TLSv1.2")
            .https_only(not self._policy.allow_http)
            .pool_idle_timeout(timedelta(seconds=_IDLE_CONNECTION_S))
        )
        if self._ca_pem is not None:
            builder = builder.add_root_certificate_pem(self._ca_pem)
        if addresses:
            # The pin: this client connects to the checked address, never resolving the
            # name itself, while TLS still verifies the certificate for the name.
            builder = builder.resolve(host, addresses[0], port)
        return builder.build()


def _read_bundle(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"PLAUDIT_OUTBOUND_CA_BUNDLE: cannot load {path!r} ({exc})") from exc
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError(f"PLAUDIT_OUTBOUND_CA_BUNDLE: {path!r} holds no PEM certificate")
    return pem
