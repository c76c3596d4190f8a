"""
The fetch guard: every server-side HTTP request to an address that someone
other than the operator's code chose (web-page sources, their re-fetches and
redirects, the leads webhook) goes through `guarded_request`.

- Only http and https, on every hop.
- The host is resolved once and every address it resolves to is checked
  (`AddressPolicy`): loopback, private, link-local, cloud metadata, multicast,
  unspecified and reserved addresses are refused, in IPv4, IPv6 and IPv4-in-IPv6
  (mapped, 6to4, Teredo, NAT64) spellings alike; decimal, octal and short IPv4
  spellings are resolved first, so they are checked as what they mean.
- The connection is made to a checked address (no second DNS lookup, so a DNS
  answer that changes between check and use cannot swap in another address);
  the Host header, TLS SNI and the certificate check use the original host name.
- Redirects are followed here, each hop checked the same way, at most
  `MAX_REDIRECTS`.
- Every refusal, and every failure to resolve, connect, shake hands or speak
  HTTP, raises a `FetchBlocked` whose text is the same whatever happened, so
  that the failure reasons shown to staff cannot be used as a port scanner; the
  detail goes to the server log only. A server that answered and then took too
  long raises `TimeoutError` (the caller says so, as it always has).

It makes no use of proxies (HTTP_PROXY and friends are ignored): a proxy would
resolve the host itself, after the check.

`FETCH_ALLOW_PRIVATE_ADDRESSES=1` allows loopback and private networks (an
intranet knowledge base) but still no link-local or cloud-metadata address;
`FETCH_ALLOWED_NETWORKS` allows chosen networks on top.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import logging
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
BLOCKED_TEXT = "The address could not be fetched."

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_net = ipaddress.ip_network
# Reachable only inside an organisation: allowed with FETCH_ALLOW_PRIVATE_ADDRESSES.
PRIVATE_NETWORKS: tuple[IPNetwork, ...] = (
    _net("10.0.0.0/8"),
    _net("172.16.0.0/12"),
    _net("192.168.0.0/16"),
    _net("100.64.0.0/10"),  # carrier-grade NAT, used for intranets too
    _net("fc00::/7"),  # unique local
    _net("fec0::/10"),  # the deprecated site-local
)
# Instance metadata services (credentials!): refused even with the opt-in.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
_NAT64 = _net("64:ff9b::/96")


class FetchBlocked(Exception):
    """
    The request was refused or the peer could not be reached or did not speak
    HTTP. `str()` is the same neutral text for every cause; `detail` says what
    happened, for the server log only.
    """

    transient = False

    def __init__(self, detail: str):
        super().__init__(BLOCKED_TEXT)
        self.detail = detail


class Refused(FetchBlocked):
    """The policy refused the URL: its scheme, an address it resolves to, or too many redirects."""


class Unreachable(FetchBlocked):
    """Resolving, connecting, the TLS handshake or the HTTP exchange failed; trying later may help."""

    transient = True


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def from_settings(cls) -> AddressPolicy:
        from django.conf import settings

        return cls(
            allow_private=settings.FETCH_ALLOW_PRIVATE_ADDRESSES,
            allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in settings.FETCH_ALLOWED_NETWORKS),
        )

    def refusal(self, address: IPAddress) -> str | None:
        """None if a fetch may connect to `address`; otherwise what kind of address it is."""
        if any(address.version == network.version and address in network for network in self.allowed_networks):
            return None
        kind = address_kind(address)
        if kind == "public" or (self.allow_private and kind in {"loopback", "private"}):
            return None
        return kind


def url_refusal_without_dns(*, url: str, policy: AddressPolicy) -> str | None:
    """
    For system checks, which must not touch the network: what the policy will
    refuse about `url` when its host is an IP address or localhost (None when
    that is allowed, or when only DNS can tell).
    """
    host = (urlsplit(url).hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return policy.refusal(ipaddress.ip_address("127.0.0.1"))
    try:
        return policy.refusal(ipaddress.ip_address(host))
    except ValueError:
        return None


def address_kind(address: IPAddress) -> str:
    """
    "public", "loopback", "private", "link-local", "cloud metadata", "multicast",
    "unspecified" or "reserved". An IPv6 address that carries an IPv4 one
    (mapped, NAT64, 6to4, Teredo) is what that IPv4 address is.
    """
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # without a scope id
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_kind(embedded)
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_unspecified or (address.version == 4 and address in _net("0.0.0.0/8")):
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if any(address.version == network.version and address in network for network in PRIVATE_NETWORKS):
        return "private"
    if not address.is_global or address.is_reserved or address.is_private:
        return "reserved"
    return "public"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """The system's CA certificates plus certifi's (what `requests` trusted), hostnames checked."""
    context = ssl.create_default_context()
    try:
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    except (ImportError, OSError):
        pass
    return context


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to `host` made to the checked address `address` (TLS: SNI and certificate for `host`)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float, tls: ssl.SSLContext | None):
        super().__init__(host, port, timeout=timeout)
        self.address = address
        self.tls = tls

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


class GuardedResponse:
    """The final response: `status`, `reason`, `headers`, `url` (after redirects), `read(amount)`."""

    def __init__(self, *, url: str, connection: http.client.HTTPConnection, response: http.client.HTTPResponse):
        self.url = url
        self.status = response.status
        self.reason = response.reason
        self.headers = response.headers
        self._connection = connection
        self._response = response

    def read(self, amount: int) -> bytes:
        """Up to `amount` bytes of the body; b"" at its end. A broken body raises `Unreachable`."""
        try:
            return self._response.read(amount)
        except TimeoutError:
            raise
        except (http.client.HTTPException, OSError) as exc:
            raise _blocked(Unreachable, self.url, f"the body broke off: {exc!r}") from None

    def close(self) -> None:
        self._response.close()
        self._connection.close()

    def __enter__(self) -> GuardedResponse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def guarded_request(
    *,
    url: str,
    timeout: float,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    policy: AddressPolicy | None = None,
    follow_redirects: bool = True,
    tls: ssl.SSLContext | None = None,
) -> GuardedResponse:
    """
    Sends the request through the guard and returns the response, whatever its
    status (use it as a context manager). With `follow_redirects` a redirect is
    followed (303, and 301/302 after a POST, become a GET), each hop checked,
    and the response after more than MAX_REDIRECTS is refused; without it a
    redirect is returned as it is. `timeout` applies to each connect and read.
    Raises `FetchBlocked` (`Refused` or `Unreachable`) or `TimeoutError`.
    """
    policy = policy if policy is not None else AddressPolicy.from_settings()
    headers = dict(headers or {})
    redirects = 0
    while True:
        connection = _open(url=url, timeout=timeout, policy=policy, tls=tls)
        try:
            connection.request(method, _request_target(url), body=body, headers=headers)
            response = connection.getresponse()
        except TimeoutError:
            connection.close()
            raise
        except (http.client.HTTPException, OSError) as exc:
            connection.close()
            raise _blocked(Unreachable, url, f"no HTTP answer: {exc!r}") from None
        location = response.getheader("Location")
        if not (follow_redirects and response.status in REDIRECT_STATUSES and location):
            return GuardedResponse(url=url, connection=connection, response=response)
        response.close()
        connection.close()
        if redirects >= MAX_REDIRECTS:
            raise _blocked(Refused, url, f"more than {MAX_REDIRECTS} redirects")
        redirects += 1
        target = urljoin(url, location.strip())
        logger.debug("redirect %s %s -> %s", response.status, url, target)
        url = target
        if response.status == 303 or (response.status in {301, 302} and method == "POST"):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() not in {"content-type", "content-length"}}


def _open(*, url: str, timeout: float, policy: AddressPolicy, tls: ssl.SSLContext | None) -> _PinnedConnection:
    """Checks the URL and every address its host resolves to, then connects to one of those addresses."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError as exc:
        raise _blocked(Refused, url, f"not a valid URL ({exc})") from None
    if scheme not in {"http", "https"}:
        raise _blocked(Refused, url, f"the scheme {scheme!r} is not http(s)")
    if not host:
        raise _blocked(Refused, url, "no host")
    try:
        host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _blocked(Refused, url, "the host name is not a valid international domain name") from None
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(url=url, host=host, port=port)
    for address in addresses:
        kind = policy.refusal(address)
        if kind is not None:
            raise _blocked(Refused, url, f"{host} resolves to {address}, a {kind} address")
    context = (tls or default_tls_context()) if scheme == "https" else None
    failures = []
    for address in addresses:
        connection = _PinnedConnection(host, port, address=str(address), timeout=timeout, tls=context)
        try:
            connection.connect()
            return connection
        except OSError as exc:  # refused, unreachable, timed out, TLS and certificate errors
            connection.close()
            failures.append(f"{address}: {exc!r}")
    raise _blocked(Unreachable, url, "could not connect: " + "; ".join(failures))


def _resolve(*, url: str, host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _blocked(Unreachable, url, f"{host} did not resolve: {exc}") from None
    addresses = list(
        dict.fromkeys(
            ipaddress.ip_address(info[4][0]) for info in infos if info[0] in {socket.AF_INET, socket.AF_INET6}
        )
    )
    if not addresses:
        raise _blocked(Unreachable, url, f"{host} resolved to no IP address")
    return addresses


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return quote(target, safe="!#$%&'()*+,/:;=?@[]~")


def _blocked(kind: type[FetchBlocked], url: str, detail: str) -> FetchBlocked:
    """Logs the cause with the URL's origin only: paths and queries may carry secrets (webhook tokens)."""
    try:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        origin = "an invalid URL"
    logger.warning("fetch from %s blocked (%s): %s", origin, kind.__name__.lower(), detail)
    return kind(detail)
