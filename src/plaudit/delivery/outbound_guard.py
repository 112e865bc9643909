"""Outbound safety at connection time: resolution pinned to checked addresses, and TLS.

What may be reached at all is decided in :mod:`plaudit.delivery.outbound_rules`; its names
are re-exported here, so callers need one import.

Pinning: :class:`GuardedResolver` resolves once, checks every answer and hands aiohttp only
the checked numeric addresses; aiohttp connects to exactly those (numeric hosts are never
resolved again by the event loop) while TLS SNI and certificate verification keep using the
URL's host name. aiohttp bypasses resolvers for IP-literal URLs, so the connector built by
:func:`make_connector` also checks, in its socket factory, the address of every socket it is
about to connect (a backstop that holds whatever path the address came from).

Errors at delivery time (for the dispatcher):

* An address refused by the guard surfaces as :class:`aiohttp.ClientConnectorError` (for
  host names the subclass :class:`aiohttp.ClientConnectorDNSError`) whose ``os_error`` is an
  :class:`AddressRefused`. Use :func:`find_refusal` to recognise it. It is a policy decision,
  not a network fault: classify it as **not retryable** (``AddressRefused.retryable`` is
  False) and record ``refusal.reason`` as the failure reason.
* Anything else (``ClientConnectorDNSError`` without a refusal: the name does not resolve;
  other ``ClientConnectorError``: refused/unreachable/timeouts) is an ordinary transport
  failure, retryable. ``ClientConnectorCertificateError`` / ``ClientConnectorSSLError`` (TLS
  verification failed) are the endpoint's misconfiguration; they are
  ``ClientConnectorError`` subclasses and :func:`find_refusal` returns None for them.

Send-time notes for the dispatcher: the guard checks addresses, not schemes; URLs must have
passed :func:`check_url_syntax` when configured, and requests should be sent with
``allow_redirects=False`` (a redirect could downgrade to http; its host would still be
address-checked). Keep ``trust_env=False`` (aiohttp's default) so no environment proxy is used.
"""

from __future__ import annotations

import socket
import ssl

import aiohttp
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from plaudit.delivery.outbound_rules import (
    MAX_URL_LENGTH,
    AddressRefused,
    IPAddress,
    IPNetwork,
    OutboundPolicy,
    UrlRefused,
    address_refusal,
    answer_refusal,
    check_url_resolves,
    check_url_syntax,
    find_refusal,
    parse_ip,
)

__all__ = [
    "MAX_URL_LENGTH",
    "AddressRefused",
    "GuardedResolver",
    "IPAddress",
    "IPNetwork",
    "OutboundPolicy",
    "UrlRefused",
    "address_refusal",
    "check_url_resolves",
    "check_url_syntax",
    "find_refusal",
    "make_connector",
    "make_ssl_context",
]


# --------------------------------------------------------------------------- resolver


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that returns only checked addresses (the pin).

    Wraps ``inner`` (default: aiohttp's ``DefaultResolver``, i.e. ``AsyncResolver`` when
    aiodns is installed, else ``ThreadedResolver``, created on first use). Every answer is
    checked; if any is refused :class:`AddressRefused` is raised and nothing is returned, so a
    rebinding answer mixing a public and a private address refuses the host. Returned entries
    carry the numeric address that was checked, which is what aiohttp connects to.
    """

    def __init__(self, policy: OutboundPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner
        self._owns_inner = inner is None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = DefaultResolver()
        answers = await self._inner.resolve(host, port, family=family)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, f"host {host} does not resolve")
        checked: list[ResolveResult] = []
        for answer in answers:
            address = answer["host"]
            reason = answer_refusal(host, address, self.policy)
            if reason is not None:
                raise AddressRefused(reason, host=host, address=address)
            checked.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=answer["port"],
                    family=answer["family"],
                    proto=answer["proto"],
                    flags=answer["flags"] | socket.AI_NUMERICHOST,
                )
            )
        return checked

    async def close(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None and self._owns_inner:
            await inner.close()


# --------------------------------------------------------------------------- TLS, connector


def make_ssl_context(policy: OutboundPolicy) -> ssl.SSLContext:
    """System trust store plus ``policy.ca_bundle``; verification on; TLS 1.2 or newer.

    Reads certificate files (blocking): call it at startup, not per request. A bundle that
    cannot be loaded raises ValueError naming the file.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if policy.ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=policy.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(
                f"PLAUDIT_OUTBOUND_CA_BUNDLE: cannot load {policy.ca_bundle!r} ({exc})"
            ) from exc
    context.set_alpn_protocols(["http/1.1"])
    return context


def _guarded_socket_factory(policy: OutboundPolicy) -> SocketFactoryType:
    """Backstop: check the address of every socket the connector is about to connect.

    aiohttp does not consult the resolver for IP-literal URLs; this catches those (and any
    other path). A non-numeric address is refused so the event loop never resolves it.
    """

    def factory(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        address = str(sockaddr[0])
        ip = parse_ip(address)
        if ip is None:
            raise AddressRefused(
                f"{address!r} is not a numeric address", host=None, address=address
            )
        refusal = address_refusal(ip, policy)
        if refusal is not None:
            raise AddressRefused(f"{ip} is {refusal}", host=None, address=address)
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


class _GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that also closes its GuardedResolver (aiohttp does not own it)."""

    def __init__(
        self,
        *,
        guard: GuardedResolver,
        ssl_context: ssl.SSLContext,
        limit: int,
        limit_per_host: int,
        keepalive_timeout: float,
        ttl_dns_cache: int,
    ) -> None:
        super().__init__(
            resolver=guard,
            ssl=ssl_context,
            use_dns_cache=True,
            ttl_dns_cache=ttl_dns_cache,
            limit=limit,
            limit_per_host=limit_per_host,
            keepalive_timeout=keepalive_timeout,
            socket_factory=_guarded_socket_factory(guard.policy),
        )
        self._guard = guard

    async def close(self, *, abort_ssl: bool = False) -> None:
        try:
            await super().close(abort_ssl=abort_ssl)
        finally:
            await self._guard.close()


def make_connector(
    policy: OutboundPolicy,
    *,
    limit: int = 0,
    limit_per_host: int = 0,
    keepalive_timeout: float = 30,
    ttl_dns_cache: int = 30,
    inner_resolver: AbstractResolver | None = None,
) -> aiohttp.TCPConnector:
    """A TCPConnector that only ever connects to policy-checked addresses.

    Uses :class:`GuardedResolver` (wrapping ``inner_resolver``, default aiohttp's) and
    :func:`make_ssl_context`. aiohttp's DNS cache holds only checked answers; it is reused
    for ``ttl_dns_cache`` seconds and re-resolved (and re-checked) when it expires. Must be
    called with a running event loop. ``limit=0`` means no limit (aiohttp semantics).
    """
    return _GuardedConnector(
        guard=GuardedResolver(policy, inner=inner_resolver),
        ssl_context=make_ssl_context(policy),
        limit=limit,
        limit_per_host=limit_per_host,
        keepalive_timeout=keepalive_timeout,
        ttl_dns_cache=ttl_dns_cache,
    )
