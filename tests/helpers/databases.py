"""The tests' PostgreSQL and MariaDB databases: each test gets its own, empty and uniquely named, and never waits
for one to be made or dropped. A thread per server makes a few ahead and drops them behind (CREATE and DROP
DATABASE cost a server 0.1 to 0.4 s each, mostly waiting on its disk), and the session's end drops what is left.
"""

from __future__ import annotations

import queue
import threading
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.helpers.common import Conn

AHEAD = 2  # databases made ahead per server: a test takes one while the next is made
SERVERS = {
    "postgres": ("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
                 'CREATE DATABASE "{name}"', 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'),
    "mariadb": ("mysql+pymysql://root@127.0.0.1:3306/",
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4", "DROP DATABASE IF EXISTS `{name}`"),
}


class ServerDatabases:
    """Empty databases of one server kind, made ahead and dropped behind by one thread."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        admin_url, self._create, self._drop = SERVERS[kind]
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._prefix = f"n11_test_{uuid.uuid4().hex[:8]}_"
        self._count = 0
        self._ready: queue.Queue[str | BaseException] = queue.Queue()
        self._dropping: list[str] = []
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._work, name=f"test-databases-{kind}", daemon=True)
        self._thread.start()

    def take(self) -> Conn:
        """A new empty database of this server, as the shop's connection."""
        name = self._ready.get()
        if isinstance(name, BaseException):
            self._ready.put(name)  # the thread has stopped: every later test fails the same way instead of waiting
            raise name
        with self._wake:
            self._wake.notify()  # make the next one
        if self.kind == "postgres":
            return Conn("shop_db", "postgres", "127.0.0.1", "postgres", None, 5432, name)
        return Conn("shop_db", "mysql", "127.0.0.1", "root", None, 3306, name)

    def give_back(self, conn: Conn) -> None:
        """Drop the test's database (its engines closed), behind the test."""
        with self._wake:
            self._dropping.append(conn.schema)
            self._wake.notify()

    def close(self) -> None:
        """Drop what is left: the databases made ahead and those still to drop."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join()
        while not self._ready.empty():
            name = self._ready.get()
            if isinstance(name, str):
                self._run(self._drop, name)
        self._admin.dispose()

    def _work(self) -> None:
        while True:
            with self._wake:
                while not (self._dropping or self._closing or self._ready.qsize() < AHEAD):
                    self._wake.wait()
                dropping, self._dropping = self._dropping, []
                closing = self._closing
            for name in dropping:
                self._run(self._drop, name)
            if closing:
                return
            if self._ready.qsize() < AHEAD:
                self._count += 1
                name = f"{self._prefix}{self._count}"
                try:
                    self._run(self._create, name)
                except BaseException as exc:  # the test that takes it says why
                    self._ready.put(exc)
                    return
                self._ready.put(name)

    def _run(self, statement: str, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(statement.format(name=name)))
