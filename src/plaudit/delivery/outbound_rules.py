"""Which URLs and addresses Plaudit may POST to: the operator contract, checked.

* Target URLs are ``https`` only; ``allow_http`` [PLAUDIT_OUTBOUND_ALLOW_HTTP=1, development
  only] also allows ``http``. No userinfo (``user:pass@``), a host is required, at most 2048
  characters, any port.
* Private, loopback, link-local, multicast, unspecified, reserved and shared (100.64.0.0/10)
  addresses, the IPv4-mapped / 6to4 / Teredo / NAT64 forms of those, site-local IPv6 and
  unique-local ``fc00::/7`` are refused *after* DNS resolution. Every resolved address is
  checked and one refused address refuses the whole host (DNS rebinding with mixed answers).
* ``allow_cidrs`` [PLAUDIT_OUTBOUND_ALLOW_CIDRS, comma separated] lifts the address rule for
  the listed ranges.
* ``ca_bundle`` [PLAUDIT_OUTBOUND_CA_BUNDLE]: a PEM file of extra CAs trusted in addition to
  the system store.

The connection-time side (pinning to checked addresses, TLS) is in
:mod:`plaudit.delivery.http_client`.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Final
from urllib.parse import urlsplit

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH: Final = 2048

# (host, port) -> the numeric addresses the name resolves to; raises OSError when it does not.
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answers for `host`, as numeric addresses."""
    answers = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in answers))


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """What outbound webhook traffic may do. Build it once from settings."""

    allow_http: bool = False
    allow_cidrs: tuple[IPNetwork, ...] = ()
    ca_bundle: str | None = None

    @classmethod
    def from_settings(
        cls, allow_http: bool, allow_cidrs: str, ca_bundle: str | None
    ) -> OutboundPolicy:
        """Parse the settings values; a bad CIDR raises ValueError naming it.

        ``allow_cidrs`` is a comma-separated list; blanks are ignored; a bare address is a
        single-address range. Host bits must be zero (``10.0.0.0/8``, not ``10.0.0.1/8``).
        An empty ``ca_bundle`` means none. The bundle file is read by
        :func:`make_ssl_context`, not here.
        """
        networks: list[IPNetwork] = []
        for raw in allow_cidrs.split(","):
            item = raw.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=True))
            except ValueError as exc:
                raise ValueError(
                    f"PLAUDIT_OUTBOUND_ALLOW_CIDRS: {item!r} is not a valid CIDR ({exc})"
                ) from exc
        bundle = ca_bundle.strip() if ca_bundle is not None else None
        return cls(
            allow_http=allow_http,
            allow_cidrs=tuple(networks),
            ca_bundle=bundle or None,
        )

    def is_allow_listed(self, ip: IPAddress) -> bool:
        """True if ``ip`` falls in one of the ``allow_cidrs`` ranges."""
        return any(ip.version == net.version and ip in net for net in self.allow_cidrs)


# --------------------------------------------------------------------------- errors


class UrlRefused(Exception):
    """A webhook URL is not acceptable; ``reason`` is human text for a 422 answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class AddressRefused(OSError):
    """Raised before connecting when an address is refused by the policy. Not retryable:
    a policy decision, not a network fault."""

    retryable: ClassVar[bool] = False

    def __init__(self, reason: str, *, host: str | None, address: str) -> None:
        super().__init__(errno.EACCES, reason)
        self.reason = reason
        self.host = host
        self.address = address

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_address_refused, (self.reason, self.host, self.address))


def _rebuild_address_refused(reason: str, host: str | None, address: str) -> AddressRefused:
    return AddressRefused(reason, host=host, address=address)


# --------------------------------------------------------------------------- address rule


def _v4(cidr: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(cidr)


def _v6(cidr: str) -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network(cidr)


_PRIVATE: Final = "a private address"
_LOOPBACK: Final = "a loopback address"
_LINK_LOCAL: Final = "a link-local address"
_MULTICAST: Final = "a multicast address"
_UNSPECIFIED: Final = "an unspecified address"
_RESERVED: Final = "a reserved address"
_SHARED: Final = "a shared address (100.64.0.0/10)"
_SITE_LOCAL: Final = "a site-local address"
_UNIQUE_LOCAL: Final = "a unique-local address"

# IANA IPv4 special-purpose registry, as an explicit table so the rule does not depend on
# the Python patch release's idea of ``is_private``/``is_global``.
_IPV4_REFUSED: Final[tuple[tuple[ipaddress.IPv4Network, str], ...]] = (
    (_v4("0.0.0.0/8"), _UNSPECIFIED),
    (_v4("10.0.0.0/8"), _PRIVATE),
    (_v4("100.64.0.0/10"), _SHARED),
    (_v4("127.0.0.0/8"), _LOOPBACK),
    (_v4("169.254.0.0/16"), _LINK_LOCAL),
    (_v4("172.16.0.0/12"), _PRIVATE),
    (_v4("192.0.0.0/24"), _RESERVED),  # IETF protocol assignments
    (_v4("192.0.2.0/24"), _RESERVED),  # documentation
    (_v4("192.88.99.0/24"), _RESERVED),  # 6to4 relay anycast (deprecated)
    (_v4("192.168.0.0/16"), _PRIVATE),
    (_v4("198.18.0.0/15"), _RESERVED),  # benchmarking
    (_v4("198.51.100.0/24"), _RESERVED),  # documentation
    (_v4("203.0.113.0/24"), _RESERVED),  # documentation
    (_v4("224.0.0.0/4"), _MULTICAST),
    (_v4("240.0.0.0/4"), _RESERVED),  # includes 255.255.255.255
)

_IPV6_UNSPECIFIED: Final = _v6("::/128")  # networks: membership ignores any zone id
_IPV6_LOOPBACK: Final = _v6("::1/128")
_IPV6_MAPPED: Final = _v6("::ffff:0:0/96")
_IPV6_NAT64: Final = _v6("64:ff9b::/96")
_IPV6_TEREDO: Final = _v6("2001::/32")
_IPV6_6TO4: Final = _v6("2002::/16")
_IPV6_GLOBAL_UNICAST: Final = _v6("2000::/3")

_IPV6_REFUSED: Final[tuple[tuple[ipaddress.IPv6Network, str], ...]] = (
    (_v6("fc00::/7"), _UNIQUE_LOCAL),
    (_v6("fe80::/10"), _LINK_LOCAL),
    (_v6("fec0::/10"), _SITE_LOCAL),
    (_v6("ff00::/8"), _MULTICAST),
    (_v6("2001::/23"), _RESERVED),  # IETF protocol assignments (Teredo handled first)
    (_v6("2001:db8::/32"), _RESERVED),  # documentation
    (_v6("3fff::/20"), _RESERVED),  # documentation
)


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """IPv4 addresses an IPv6 address stands for (mapped, NAT64, 6to4, Teredo)."""
    if ip in _IPV6_MAPPED:
        mapped = ip.ipv4_mapped
        assert mapped is not None
        return [("an IPv4-mapped", mapped)]
    if ip in _IPV6_NAT64:
        return [("a NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))]
    if ip in _IPV6_6TO4:
        six = ip.sixtofour
        assert six is not None
        return [("a 6to4", six)]
    if ip in _IPV6_TEREDO:
        teredo = ip.teredo
        assert teredo is not None
        server, client = teredo
        return [("a Teredo", client), ("a Teredo (server)", server)]
    return []


def address_refusal(ip: IPAddress, policy: OutboundPolicy) -> str | None:
    """None if the policy allows connecting to ``ip``, else why not.

    The reason is a noun phrase such as ``"a loopback address"`` or
    ``"an IPv4-mapped form of 127.0.0.1, a loopback address"``; callers prefix it
    (``"localhost resolves to 127.0.0.1, a loopback address"``).
    """
    if policy.is_allow_listed(ip):
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        for net, what in _IPV4_REFUSED:
            if ip in net:
                return what
        return None
    if ip in _IPV6_UNSPECIFIED:
        return _UNSPECIFIED
    if ip in _IPV6_LOOPBACK:
        return _LOOPBACK
    embedded = _embedded_v4(ip)
    for form, v4 in embedded:
        inner = address_refusal(v4, policy)
        if inner is not None:
            return f"{form} form of {v4}, {inner}"
    if embedded:
        return None
    for net6, what in _IPV6_REFUSED:
        if ip in net6:
            return what
    if ip not in _IPV6_GLOBAL_UNICAST:
        return _RESERVED  # unallocated space, IPv4-compatible ::a.b.c.d, 100::/64, ...
    return None


def parse_ip(text: str) -> IPAddress | None:
    """A numeric address string (IPv6 zone id allowed) as an address, else None."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- URL checks

_LABEL: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL: Final = re.compile(r"[0-9]+|0x[0-9a-f]*")
_FORBIDDEN_CHARS: Final = re.compile(r"[\x00-\x20\x7f]")


def _schemes(policy: OutboundPolicy) -> tuple[str, ...]:
    return ("https", "http") if policy.allow_http else ("https",)


def _is_canonical_ipv4(host: str) -> bool:
    parts = host.split(".")
    return (
        len(parts) == 4
        and all(
            p.isascii() and p.isdigit() and 1 <= len(p) <= 3 and (p == "0" or p[0] != "0")
            for p in parts
        )
        and all(int(p) <= 255 for p in parts)
    )


def _literal_address(host: str) -> IPAddress | None:
    """The address an IP-literal host names (``raw_host`` form), else None.

    Raises UrlRefused for a host the URL standard reads as an IPv4 number but that is not
    canonical dotted-quad (``127.1``, ``2130706433``, ``0x7f.0.0.1``): resolvers map those
    onto addresses in surprising ways.
    """
    if ":" in host:
        ip = parse_ip(host.replace("%25", "%"))
        if ip is None:
            raise UrlRefused(f"{host} is not a valid IPv6 address")
        return ip
    bare = host.rstrip(".")
    last = bare.rsplit(".", 1)[-1]
    if not _NUMERIC_LABEL.fullmatch(last):
        return None
    if not _is_canonical_ipv4(bare):
        raise UrlRefused(f"{host} is not a canonical IPv4 address (use dotted-quad a.b.c.d)")
    return ipaddress.IPv4Address(bare)


def _check_host_name(host: str) -> None:
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        raise UrlRefused(f"{host!r} is not a valid host name")
    if not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise UrlRefused(f"{host!r} is not a valid host name")


def check_url_syntax(url: str, policy: OutboundPolicy) -> str:
    """Static check of a webhook URL at configuration time; returns the normalized URL.

    Checks scheme, host, absence of userinfo, length and port; an IP-literal host is checked
    against the address rule right away. Host names are not resolved here (see
    :func:`check_url_resolves`). Raises :class:`UrlRefused`.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"URLs are limited to {MAX_URL_LENGTH} characters")
    if _FORBIDDEN_CHARS.search(url):
        raise UrlRefused("URLs must not contain spaces or control characters")
    schemes = _schemes(policy)
    only = (
        "only https URLs are accepted"
        if len(schemes) == 1
        else ("only http and https URLs are accepted")
    )
    try:
        split = urlsplit(url)
        parsed = URL(url)
    except ValueError as exc:
        raise UrlRefused(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in schemes:
        raise UrlRefused(only)
    if "@" in split.netloc or parsed.raw_user is not None or parsed.raw_password is not None:
        raise UrlRefused("URLs must not contain credentials (user:password@)")
    host = parsed.raw_host
    if not parsed.is_absolute() or not host:
        raise UrlRefused("a host is required")
    if parsed.port == 0:
        raise UrlRefused("port 0 is not a valid port")
    ip = _literal_address(host)
    if ip is not None:
        refusal = address_refusal(ip, policy)
        if refusal is not None:
            raise UrlRefused(f"{ip} is {refusal}")
    else:
        _check_host_name(host)
    normalized = str(parsed)
    if len(normalized) > MAX_URL_LENGTH:
        raise UrlRefused(f"URLs are limited to {MAX_URL_LENGTH} characters")
    return normalized


async def check_url_resolves(
    url: str, policy: OutboundPolicy, resolver: Resolver = system_resolver
) -> None:
    """Configuration-time check: the host resolves and every address it resolves to is allowed.

    Raises :class:`UrlRefused` for syntax problems, a host that does not resolve, or any
    refused address among the answers.
    """
    normalized = URL(check_url_syntax(url, policy))
    host = normalized.raw_host
    assert host is not None
    if _literal_address(host) is not None:
        return  # IP literal: already checked by check_url_syntax
    try:
        answers = await resolver(host, normalized.port or 0)
    except OSError as exc:
        raise UrlRefused(f"host {host} does not resolve") from exc
    if not answers:
        raise UrlRefused(f"host {host} does not resolve")
    for address in answers:
        reason = answer_refusal(host, address, policy)
        if reason is not None:
            raise UrlRefused(reason)


def answer_refusal(host: str, address: str, policy: OutboundPolicy) -> str | None:
    ip = parse_ip(address)
    if ip is None:
        return f"{host} resolves to {address!r}, which is not a numeric address"
    refusal = address_refusal(ip, policy)
    if refusal is None:
        return None
    return f"{host} resolves to {ip}, {refusal}"
