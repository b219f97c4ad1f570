# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound HTTP of the webhook dispatcher: the address checked is the address connected to.

Standard library only (``http.client``, ``ssl``, ``socket``):

- ``resolve`` asks DNS once; ``is_public_address`` says whether an address is
  globally routable, looking through the IPv6 forms that carry an IPv4
  address (IPv4-mapped, 6to4, Teredo, NAT64);
- a ``Connection`` posts to the addresses that were resolved and checked,
  never resolving the name again, keeps its socket alive between posts, and
  verifies TLS against the URL's host name (SNI and certificate name);
- one ``post`` has an overall deadline: connecting, the TLS handshake,
  sending and every read of the answer share it, so a receiver that trickles
  its answer a byte at a time is cut off when the deadline is spent;
- nothing follows redirects, and at most ``cap`` bytes of an answer are read.
"""

import functools
import http.client
import ipaddress
import select
import socket
import ssl
import time
from typing import NamedTuple

NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix


class DeadlineExceeded(TimeoutError):
    """The overall deadline of a post was spent."""


class Target(NamedTuple):
    """A checked webhook URL: where to connect, and what to ask for."""

    scheme: str  # http or https
    host: str  # the URL's host name: Host header, SNI and certificate name
    port: int
    path: str  # path and query
    addresses: tuple  # ((family, sockaddr), ...): resolved once, checked, connected to


# ----------------------------------------------------------------------------
# Addresses
# ----------------------------------------------------------------------------


def _carried_addresses(address):
    """The addresses a packet to ``address`` ends up at: an IPv4-mapped or NAT64
    address is the IPv4 address it maps; 6to4 and Teredo addresses are
    themselves and the IPv4 addresses they carry."""
    if address.version == 4:
        return (address,)
    if address.ipv4_mapped:
        return (address.ipv4_mapped,)
    if address in NAT64_PREFIX:
        return (ipaddress.IPv4Address(address.packed[-4:]),)
    carried = [address]
    if address.sixtofour:
        carried.append(address.sixtofour)
    if address.teredo:
        carried.extend(address.teredo)  # (server, client)
    return tuple(carried)


def _is_global(address):
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def is_public_address(address):
    """Whether ``address`` (text or ``ipaddress`` object) is a globally routable
    unicast address, and so is every IPv4 address it carries.

    Refused: private, loopback, link-local, shared (100.64.0.0/10), multicast,
    reserved, unspecified and documentation ranges, and any IPv6 form that
    carries one of them (``::ffff:127.0.0.1``, ``2002:7f00:1::``, ...).
    """
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%", 1)[0])  # no IPv6 zone
    return all(_is_global(carried) for carried in _carried_addresses(address))


def resolve(host, port):
    """``((family, sockaddr), ...)`` of ``host`` for a TCP connection, in the resolver's
    order, each once. Raises OSError (or UnicodeError for a bad name)."""
    addresses = []
    for family, _type, _proto, _name, sockaddr in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    ):
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    return tuple(addresses)


def sockaddr_ip(sockaddr):
    """The IP address (text) of a socket address."""
    return sockaddr[0].split("%", 1)[0]


# ----------------------------------------------------------------------------
# Sockets that keep a deadline
# ----------------------------------------------------------------------------


class _DeadlineMixin:
    """Before each blocking call, the socket's timeout becomes what is left of
    ``deadline`` (a ``time.monotonic()`` value); once spent, DeadlineExceeded.

    A socket timeout alone bounds each read, not their sum: a receiver sending
    one byte per second would never trip it.
    """

    deadline = None

    def arm(self):
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded("the deadline of the request was spent")
            self.settimeout(left)

    def recv_into(self, *args, **kwargs):
        self.arm()
        return super().recv_into(*args, **kwargs)

    def recv(self, *args, **kwargs):
        self.arm()
        return super().recv(*args, **kwargs)

    def send(self, *args, **kwargs):
        self.arm()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self.arm()
        return super().sendall(*args, **kwargs)


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    pass


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    pass


@functools.cache
def default_tls_context():
    """Certificates verified against the system's trust store and the URL's host name."""
    return tls_context(ssl.create_default_context())


def tls_context(context):
    """``context`` (an ``ssl.SSLContext`` verifying certificates and host names),
    made to return sockets that keep a deadline."""
    context.sslsocket_class = _DeadlineSSLSocket
    return context


# ----------------------------------------------------------------------------
# Connections
# ----------------------------------------------------------------------------


class _PinnedMixin:
    """An ``http.client`` connection to ``host`` that opens its socket to the
    checked ``addresses`` only (tried in order, within the deadline)."""

    def __init__(self, host, port, **kwargs):
        super().__init__(host, port, **kwargs)
        self.addresses = ()
        self.deadline = None
        self.connected_to = None
        self._create_connection = self._connect_checked

    def _connect_checked(self, _address, _timeout=None, _source_address=None):
        error = None
        for family, sockaddr in self.addresses:
            sock = _DeadlineSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.deadline = self.deadline
            try:
                sock.arm()  # connect and the TLS handshake each take what is left
                sock.connect(sockaddr)
            except TimeoutError:
                sock.close()
                raise
            except OSError as exc:
                sock.close()
                error = exc
                continue
            self.connected_to = sockaddr
            return sock
        raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(_PinnedMixin, http.client.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedMixin, http.client.HTTPSConnection):
    pass


def _dropped(sock):
    """Whether an idle keep-alive socket was closed by the other side (it is
    readable: end of file, or bytes nobody asked for)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


class Connection:
    """One receiver's keep-alive connection, reused by the posts of a dispatcher run.

    ``timed_out`` tells that a post ran out of time: the dispatcher leaves the
    receiver alone for the rest of its run.
    """

    def __init__(self, target, context=None):
        self.target = None
        self.timed_out = False
        self._context = context
        self._http = None
        self.use(target)

    def use(self, target):
        """Post to ``target`` from now on (the URL is checked again before each
        batch). An open socket is kept only for the same scheme, host and port
        at one of the addresses just checked."""
        same_origin = self.target and self.target[:3] == target[:3]
        if not same_origin:
            self.close()
            if target.scheme == "https":
                self._http = _PinnedHTTPSConnection(
                    target.host, target.port, context=self._context or default_tls_context()
                )
            else:
                self._http = _PinnedHTTPConnection(target.host, target.port)
        elif self._http.connected_to not in {sockaddr for _family, sockaddr in target.addresses}:
            self._http.close()
        self._http.addresses = target.addresses
        self.target = target

    def post(self, body, headers, timeout, cap):
        """POST ``body`` (bytes) to the target; returns ``(status, first cap bytes of
        the answer)``. Everything takes at most ``timeout`` seconds in total.

        Raises TimeoutError (DeadlineExceeded or a socket timeout), OSError
        (refused, reset, TLS verification, ...) or http.client.HTTPException.
        """
        conn = self._http
        deadline = time.monotonic() + timeout
        try:
            if conn.sock is not None and _dropped(conn.sock):
                conn.close()
            if conn.sock is None:
                conn.deadline = deadline
                conn.connect()
            conn.sock.deadline = deadline
            conn.request("POST", self.target.path, body=body, headers=headers)
            response = conn.getresponse()
            try:
                data = response.read(cap)
                if not response.isclosed():
                    conn.close()  # longer than the cap: the rest is never read
            finally:
                response.close()
            return response.status, data
        except TimeoutError:
            self.timed_out = True
            conn.close()
            raise
        except BaseException:
            conn.close()
            raise

    def close(self):
        if self._http is not None:
            self._http.close()
