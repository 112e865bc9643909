"""The outbound address rule, URL syntax checks and settings parsing."""

from __future__ import annotations

import ipaddress
import pickle
import socket

import pytest
from yarl import URL

from plaudit.delivery.http_client import OutboundClient
from plaudit.delivery.outbound_rules import (
    MAX_URL_LENGTH,
    AddressRefused,
    OutboundPolicy,
    UrlRefused,
    address_refusal,
    check_url_resolves,
    check_url_syntax,
)

DEFAULT = OutboundPolicy()

REFUSED = [
    ("10.0.0.1", "a private address"),
    ("172.16.5.4", "a private address"),
    ("192.168.1.1", "a private address"),
    ("127.0.0.1", "a loopback address"),
    ("127.255.255.254", "a loopback address"),
    ("169.254.169.254", "a link-local address"),
    ("0.0.0.0", "an unspecified address"),
    ("100.64.0.1", "a shared address (100.64.0.0/10)"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("255.255.255.255", "a reserved address"),
    ("240.0.0.1", "a reserved address"),
    ("192.0.2.10", "a reserved address"),
    ("198.18.0.1", "a reserved address"),
    ("192.0.0.8", "a reserved address"),
    ("::", "an unspecified address"),
    ("::1", "a loopback address"),
    ("fe80::1", "a link-local address"),
    ("fec0::1", "a site-local address"),
    ("fc00::1", "a unique-local address"),
    ("fd12:3456::1", "a unique-local address"),
    ("ff02::1", "a multicast address"),
    ("2001:db8::1", "a reserved address"),
    ("100::1", "a reserved address"),
    ("::127.0.0.1", "a reserved address"),  # deprecated IPv4-compatible form
    ("::ffff:127.0.0.1", "an IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("::ffff:10.1.2.3", "an IPv4-mapped form of 10.1.2.3, a private address"),
    ("2002:7f00:1::", "a 6to4 form of 127.0.0.1, a loopback address"),
    ("2002:a9fe:a9fe::1", "a 6to4 form of 169.254.169.254, a link-local address"),
    ("64:ff9b::7f00:1", "a NAT64 form of 127.0.0.1, a loopback address"),
    ("64:ff9b::a00:1", "a NAT64 form of 10.0.0.1, a private address"),
    # Teredo: client address is the bitwise inverse of the last 32 bits (10.0.0.1 here)
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a Teredo form of 10.0.0.1, a private address"),
]

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.128.0.1",  # just outside 100.64.0.0/10
    "172.32.0.1",  # just outside 172.16.0.0/12
    "2606:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_refused_addresses(address: str, reason: str) -> None:
    assert address_refusal(ipaddress.ip_address(address), DEFAULT) == reason


@pytest.mark.parametrize("address", ALLOWED)
def test_allowed_addresses(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address), DEFAULT) is None


def test_zone_id_does_not_hide_the_category() -> None:
    assert address_refusal(ipaddress.ip_address("fe80::1%eth0"), DEFAULT) == (
        "a link-local address"
    )
    assert address_refusal(ipaddress.ip_address("::1%lo"), DEFAULT) == "a loopback address"


def test_allow_cidrs_lifts_exactly_its_range() -> None:
    policy = OutboundPolicy.from_settings(False, "10.1.0.0/16, fd00:1::/32", None)
    assert address_refusal(ipaddress.ip_address("10.1.0.1"), policy) is None
    assert address_refusal(ipaddress.ip_address("10.1.255.255"), policy) is None
    assert address_refusal(ipaddress.ip_address("10.2.0.1"), policy) == "a private address"
    assert address_refusal(ipaddress.ip_address("10.0.255.255"), policy) == "a private address"
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), policy) == "a loopback address"
    assert address_refusal(ipaddress.ip_address("fd00:1::5"), policy) is None
    assert address_refusal(ipaddress.ip_address("fd00:2::5"), policy) == ("a unique-local address")
    # the embedded forms of an allowed IPv4 range are allowed too, others are not
    assert address_refusal(ipaddress.ip_address("::ffff:10.1.2.3"), policy) is None
    assert address_refusal(ipaddress.ip_address("::ffff:10.2.2.3"), policy) == (
        "an IPv4-mapped form of 10.2.2.3, a private address"
    )


def test_allow_cidrs_does_not_cross_families() -> None:
    policy = OutboundPolicy.from_settings(False, "::/0", None)
    assert address_refusal(ipaddress.ip_address("::1"), policy) is None
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), policy) == "a loopback address"


# --------------------------------------------------------------------------- settings


def test_from_settings_parses_comma_list() -> None:
    policy = OutboundPolicy.from_settings(True, " 127.0.0.0/8 ,,10.0.0.5, ::1/128 ", "  ")
    assert policy == OutboundPolicy(
        allow_http=True,
        allow_cidrs=(
            ipaddress.IPv4Network("127.0.0.0/8"),
            ipaddress.IPv4Network("10.0.0.5/32"),
            ipaddress.IPv6Network("::1/128"),
        ),
        ca_bundle=None,
    )
    assert OutboundPolicy.from_settings(False, "", "/etc/ca.pem") == OutboundPolicy(
        ca_bundle="/etc/ca.pem"
    )


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "not-a-cidr", "10.0.0.1/8", "fc00::/129"])
def test_from_settings_bad_cidr_names_it(bad: str) -> None:
    with pytest.raises(ValueError, match="PLAUDIT_OUTBOUND_ALLOW_CIDRS") as info:
        OutboundPolicy.from_settings(False, f"127.0.0.0/8,{bad}", None)
    assert repr(bad) in str(info.value)


def test_policy_is_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT.allow_http = True  # type: ignore[misc]


# --------------------------------------------------------------------------- URL syntax


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/hooks", "https://example.com/hooks"),
        ("HTTPS://Example.COM:8443/a/../b?x=1", "https://example.com:8443/b?x=1"),
        ("https://bücher.de/x", "https://xn--bcher-kva.de/x"),
        ("https://8.8.8.8/", "https://8.8.8.8/"),
        ("https://[2606:4700::1111]:65535/", "https://[2606:4700::1111]:65535/"),
        ("https://hooks.example.com./in", "https://hooks.example.com./in"),
        ("https://my_host.example/", "https://my_host.example/"),
    ],
)
def test_url_syntax_accepts(url: str, expected: str) -> None:
    assert check_url_syntax(url, DEFAULT) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/", "only https URLs are accepted"),
        ("ftp://example.com/", "only https URLs are accepted"),
        ("example.com/hook", "only https URLs are accepted"),
        ("//example.com/hook", "only https URLs are accepted"),
        ("javascript:alert(1)", "only https URLs are accepted"),
        ("https://user:pass@example.com/", "URLs must not contain credentials"),
        ("https://user@example.com/", "URLs must not contain credentials"),
        ("https://@example.com/", "URLs must not contain credentials"),
        ("https:///path", "a host is required"),
        ("https:", "a host is required"),
        ("https://example.com:0/", "port 0 is not a valid port"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://exa mple.com/", "spaces or control characters"),
        ("https://example.com/\n", "spaces or control characters"),
        ("https://a..b/", "not a valid host name"),
        ("https://h%2f/", "not a valid host name"),
        ("https://-bad-.example/", "not a valid host name"),
        ("https://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("https://[::1]:8443/", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]/", "an IPv4-mapped form of 127.0.0.1"),
        ("https://169.254.169.254/latest/meta-data", "a link-local address"),
        ("https://127.1/", "not a canonical IPv4 address"),
        ("https://2130706433/", "not a canonical IPv4 address"),
        ("https://0x7f.0.0.1/", "not a canonical IPv4 address"),
        ("https://0177.0.0.1/", "not a canonical IPv4 address"),
        ("https://10.0.0.1./", "10.0.0.1 is a private address"),
    ],
)
def test_url_syntax_refuses(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused) as info:
        check_url_syntax(url, DEFAULT)
    assert reason in info.value.reason
    assert str(info.value) == info.value.reason


def test_http_allowed_only_with_allow_http() -> None:
    dev = OutboundPolicy(allow_http=True)
    assert check_url_syntax("http://example.com/x", dev) == "http://example.com/x"
    with pytest.raises(UrlRefused, match="only http and https URLs are accepted"):
        check_url_syntax("ftp://example.com/", dev)
    with pytest.raises(UrlRefused, match="only https URLs are accepted"):
        check_url_syntax("http://example.com/x", DEFAULT)


def test_url_length_limit() -> None:
    base = "https://example.com/"
    at_limit = base + "a" * (MAX_URL_LENGTH - len(base))
    assert check_url_syntax(at_limit, DEFAULT) == at_limit
    with pytest.raises(UrlRefused, match="limited to 2048 characters"):
        check_url_syntax(at_limit + "a", DEFAULT)
    # normalization (percent-encoding) must not smuggle an over-long URL through
    with pytest.raises(UrlRefused, match="limited to 2048 characters"):
        check_url_syntax(base + "é" * 1000, DEFAULT)


def test_ip_literal_allowed_by_allow_cidrs() -> None:
    policy = OutboundPolicy.from_settings(False, "127.0.0.0/8", None)
    assert check_url_syntax("https://127.0.0.1:9/", policy) == "https://127.0.0.1:9/"


# --------------------------------------------------------------------------- resolution


class StaticResolver:
    """Answers every lookup with fixed addresses (a stand-in for DNS)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if not self.addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.addresses)


async def test_check_url_resolves_accepts_public_answers() -> None:
    dns = StaticResolver("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    await check_url_resolves("https://hooks.example.com/x", DEFAULT, dns)
    assert dns.calls == ["hooks.example.com"]


async def test_check_url_resolves_refuses_mixed_answers() -> None:
    dns = StaticResolver("93.184.216.34", "10.0.0.1")
    with pytest.raises(UrlRefused) as info:
        await check_url_resolves("https://rebind.example.com/x", DEFAULT, dns)
    assert info.value.reason == "rebind.example.com resolves to 10.0.0.1, a private address"


async def test_check_url_resolves_unresolvable() -> None:
    with pytest.raises(UrlRefused, match=r"host nowhere\.example does not resolve"):
        await check_url_resolves("https://nowhere.example/", DEFAULT, StaticResolver())


async def test_check_url_resolves_ip_literal_needs_no_dns() -> None:
    dns = StaticResolver()
    await check_url_resolves("https://8.8.8.8/", DEFAULT, dns)
    assert dns.calls == []
    with pytest.raises(UrlRefused, match=r"10\.0\.0\.1 is a private address"):
        await check_url_resolves("https://10.0.0.1/", DEFAULT, dns)


async def test_check_url_resolves_with_real_default_resolver() -> None:
    with pytest.raises(UrlRefused, match=r"^localhost resolves to .*, a loopback address$"):
        await check_url_resolves("https://localhost/", DEFAULT)


async def test_client_refuses_a_host_with_any_refused_answer() -> None:
    client = OutboundClient(DEFAULT, resolver=StaticResolver("8.8.8.8", "::1"))
    with pytest.raises(AddressRefused) as info:
        await client.client_for(URL("https://mixed.example/hook"))
    assert info.value.reason == "mixed.example resolves to ::1, a loopback address"
    assert (info.value.host, info.value.address) == ("mixed.example", "::1")
    assert info.value.retryable is False


async def test_client_refuses_non_numeric_answers_and_empty_answers() -> None:
    with pytest.raises(AddressRefused, match="not a numeric address"):
        await OutboundClient(DEFAULT, resolver=StaticResolver("evil.example")).client_for(
            URL("https://x.example/")
        )

    async def empty(host: str, port: int) -> list[str]:
        return []

    with pytest.raises(socket.gaierror, match="does not resolve"):
        await OutboundClient(DEFAULT, resolver=empty).client_for(URL("https://x.example/"))


async def test_client_checks_ip_literals_without_dns() -> None:
    dns = StaticResolver()
    client = OutboundClient(DEFAULT, resolver=dns)
    with pytest.raises(AddressRefused, match=r"169\.254\.169\.254 is a link-local address"):
        await client.client_for(URL("https://169.254.169.254/latest"))
    await client.client_for(URL("https://8.8.8.8/"))
    assert dns.calls == []
    await client.close()


async def test_client_keeps_its_pin_until_the_ttl_then_rechecks() -> None:
    dns = StaticResolver("8.8.8.8")
    client = OutboundClient(DEFAULT, resolver=dns, dns_ttl_s=3600)
    first = await client.client_for(URL("https://hooks.example/a"))
    assert await client.client_for(URL("https://hooks.example/b")) is first
    assert dns.calls == ["hooks.example"]
    rebinding = OutboundClient(DEFAULT, resolver=dns, dns_ttl_s=0)
    await rebinding.client_for(URL("https://hooks.example/a"))
    dns.addresses = ("10.0.0.7",)
    with pytest.raises(AddressRefused, match=r"resolves to 10\.0\.0\.7, a private address"):
        await rebinding.client_for(URL("https://hooks.example/a"))
    await client.close()
    await rebinding.close()


async def test_the_same_answer_in_another_order_keeps_the_client() -> None:
    dns = StaticResolver("8.8.8.8", "8.8.4.4")
    client = OutboundClient(DEFAULT, resolver=dns, dns_ttl_s=0)
    first = await client.client_for(URL("https://hooks.example/a"))
    dns.addresses = ("8.8.4.4", "8.8.8.8")
    assert await client.client_for(URL("https://hooks.example/a")) is first
    dns.addresses = ("1.1.1.1",)
    assert await client.client_for(URL("https://hooks.example/a")) is not first
    await client.close()


def test_refusal_survives_pickling() -> None:
    refusal = AddressRefused("x resolves to 10.0.0.1, a private address", host="x", address="a")
    clone = pickle.loads(pickle.dumps(refusal))
    assert (clone.reason, clone.host, clone.address) == (refusal.reason, "x", "a")


def test_bad_ca_bundle_is_named() -> None:
    with pytest.raises(ValueError, match=r"PLAUDIT_OUTBOUND_CA_BUNDLE.*/nonexistent/ca\.pem"):
        OutboundClient(OutboundPolicy(ca_bundle="/nonexistent/ca.pem"))
