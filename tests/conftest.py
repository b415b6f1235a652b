"""Shared test set-up. Network guard: no test may open a TCP connection beyond loopback.

`socket.socket.connect`/`connect_ex` are patched for the whole run (every thread, including the
SDK's and the simulator's): a TCP connect to an address outside 127.0.0.0/8 and ::1 raises
NetworkAccessBlocked before the real connect, so no packet leaves. Code may swallow that error (the
SDK catches everything around its HTTP calls), so each violation is also recorded and fails the test
that made it. UDP `connect` only sets the peer address and sends nothing; it stays allowed, which
keeps the SDK's `get_host_ip()` (UDP connect to 8.8.8.8 to learn the local address) working.
Host names other than "localhost" are refused too: resolving them could reach a DNS server.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

import pytest

pytest_plugins = ["tests.db_fixtures"]


class NetworkAccessBlocked(OSError):
    """An OSError, so callers that clean up after failed connects (socket.create_connection,
    asyncio, urllib3) close their socket instead of leaking it."""


class NetworkGuard:
    def __init__(self) -> None:
        self.violations: list[tuple] = []
        self._lock = threading.Lock()
        self._originals = (socket.socket.connect, socket.socket.connect_ex)

    @staticmethod
    def allowed(sock: socket.socket, address) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return True
        host = address[0]
        if host == "localhost":
            return True
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        mapped = getattr(ip, "ipv4_mapped", None)
        return (mapped or ip).is_loopback

    def check(self, sock: socket.socket, address) -> None:
        if not self.allowed(sock, address):
            with self._lock:
                self.violations.append(tuple(address))
            raise NetworkAccessBlocked(f"network guard: TCP connection to {address!r} refused "
                                       "(tests may only reach 127.0.0.0/8 and ::1)")

    def install(self) -> None:
        connect, connect_ex = self._originals
        guard = self

        def guarded_connect(sock, address):
            guard.check(sock, address)
            return connect(sock, address)

        def guarded_connect_ex(sock, address):
            guard.check(sock, address)
            return connect_ex(sock, address)

        socket.socket.connect = guarded_connect
        socket.socket.connect_ex = guarded_connect_ex

    def uninstall(self) -> None:
        socket.socket.connect, socket.socket.connect_ex = self._originals

    def take(self) -> list[tuple]:
        """The violations so far, forgotten (for a test that provokes one on purpose)."""
        with self._lock:
            taken, self.violations = self.violations, []
        return taken


_guard = NetworkGuard()


def pytest_configure(config: pytest.Config) -> None:
    _guard.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    _guard.uninstall()


@pytest.fixture(autouse=True)
def network_guard():
    _guard.take()
    yield _guard
    violations = _guard.take()
    if violations:
        pytest.fail(f"network guard: the test tried to reach {violations} (only loopback is allowed)")


@pytest.fixture(scope="session", autouse=True)
def ledger_key_file(tmp_path_factory):
    """Every test run signs with its own ledger key in a temporary directory (never the user's key):
    ``DINGCLASS_LEDGER_KEY`` names a file that ``dingclass init`` (or the demo) creates on first use."""
    path = tmp_path_factory.mktemp("ledger-key") / "ledger.key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DINGCLASS_LEDGER_KEY", str(path))
        yield path
