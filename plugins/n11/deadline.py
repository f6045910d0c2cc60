"""A total deadline for one HTTP exchange, from connecting to the last byte of the answer.

``requests`` bounds each socket operation (the connect, every single read), so a server sending a byte now and
then holds a call for as long as it likes. Here every connection of a session mounted with ``DeadlineAdapter``
attaches itself to the deadline of the exchange running in its thread, and a timer shuts its socket down when
that deadline passes: the blocked read returns at once and ``requests`` raises its usual connection error.

One watchdog thread per process serves every deadline (a thread per call cost about 0.6 ms, a fifth of a call to
the sandbox); a process forked while it runs starts its own on its first call.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

_current = threading.local()


class Deadline:
    """The deadline of one exchange; ``expired`` tells afterwards whether it cut the exchange short."""

    def __init__(self) -> None:
        self.expired = False
        self.done = False  # the exchange ended: a deadline passing later cuts nothing
        self._connection: HTTPConnection | None = None
        self._lock = threading.Lock()

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            if self._connection is not None:
                _shut(self._connection)

    def finish(self) -> None:
        with self._lock:
            self.done = True


class _Watchdog:
    """Expires the deadlines that pass, earliest first, from one thread started on first use."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()  # ties on the due time never compare two Deadlines
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, current: Deadline, seconds: float) -> None:
        with self._wake:
            entry = (time.monotonic() + seconds, next(self._order), current)
            heapq.heappush(self._due, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="n11-deadlines", daemon=True)
                self._thread.start()
            if self._due[0] is entry:  # due before everything the thread waits for
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, current = heapq.heappop(self._due)
            current.expire()


_watchdog = _Watchdog()
os.register_at_fork(after_in_child=lambda: globals().update(_watchdog=_Watchdog()))


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Cut any exchange the calling thread runs inside the block once ``seconds`` have passed."""
    current = Deadline()
    _current.deadline = current
    _watchdog.watch(current, seconds)
    try:
        yield current
    finally:
        current.finish()
        _current.deadline = None


def _shut(connection: HTTPConnection) -> None:
    sock = connection.sock
    if sock is None:
        return
    with suppress(OSError):  # already closed
        # socket.socket's own shutdown: SSLSocket.shutdown would also drop the TLS state under the reading thread
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Attaching:
    """Attaches the connection to the calling thread's deadline before it connects and before each request."""

    def connect(self) -> None:
        _attach(self)
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


def _attach(connection: Any) -> None:
    current = getattr(_current, "deadline", None)
    if current is not None:
        current.attach(connection)


class _HTTPConnection(_Attaching, HTTPConnection):
    pass


class _HTTPSConnection(_Attaching, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections obey ``deadline`` (directly and through an HTTP proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):  # a SOCKS manager keeps its own pools: per-read timeouts only
            manager.pool_classes_by_scheme = _POOLS
        return manager
