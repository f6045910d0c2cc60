"""The sandbox's N11 as one object: every seller account, and the switches choosing between N11's observed
behaviours. What each endpoint answers is in its path family's module (products, orders, tasks); those handlers
take this object first, and server.py routes to them. No HTTP here."""

import hmac
import threading
from collections.abc import Callable, Iterable, Mapping

from devtools.sandbox import tasks
from devtools.sandbox.accounts import Account, WriteTask


class SandboxState:
    """Every account the sandbox knows, plus the switches that choose between N11's observed behaviours."""

    def __init__(
        self,
        accounts: Iterable[Account] = (),
        *,
        date_shift_hours: int = 0,
        rest_auth_style: str = "403",
        queue_polls: int = 1,
        item_fail_spelling: str = "FAIL",
        repeat_page_edge: bool = False,
        page_hook: Callable[[Account, Mapping[str, str]], None] | None = None,
        order_date_filter: str = "modified",
        empty_pages: int = 0,
        claim_period_filter: str = "requested",
        soap_list_shape: str = "repeated",
    ) -> None:
        """``repeat_page_edge`` repeats a row across two pages of every listing; ``page_hook(account, query)``
        runs before each shipment-package page is answered, so a test can change a package between pages;
        ``queue_polls`` is how many polls a write task stays IN_QUEUE; ``order_date_filter`` is what
        ``orderByField=true`` makes the date window filter: ``"modified"`` (lastModifiedDate, as N11's pages
        say) or ``"created"`` (it only sorts: the window filters creation dates, as without it); ``empty_pages``
        is the ``totalPages`` of an empty answer: 0, or 1 as N11 answers a queued task's details;
        ``claim_period_filter`` is what ClaimReturnList's period filters: the request date (``"requested"``) or the
        claim's last change (``"updated"``), unverified on N11; ``soap_list_shape`` is how the deny reasons come:
        ``"repeated"`` (the list element once per reason, as production answers) or ``"wsdl"`` (one list element
        holding a ``denyReasonTypeData`` per reason, as the WSDL describes)."""
        if order_date_filter not in ("modified", "created"):
            raise ValueError("order_date_filter must be 'modified' or 'created'")
        self.order_date_filter = order_date_filter
        if empty_pages not in (0, 1):
            raise ValueError("empty_pages must be 0 or 1")
        self.empty_pages = empty_pages
        if claim_period_filter not in ("requested", "updated"):
            raise ValueError("claim_period_filter must be 'requested' or 'updated'")
        self.claim_period_filter = claim_period_filter
        if soap_list_shape not in ("repeated", "wsdl"):
            raise ValueError("soap_list_shape must be 'repeated' or 'wsdl'")
        self.soap_list_shape = soap_list_shape
        if rest_auth_style not in ("403", "400"):
            raise ValueError("rest_auth_style must be '403' or '400'")
        if item_fail_spelling not in ("FAIL", "Fail"):
            raise ValueError("item_fail_spelling must be 'FAIL' or 'Fail'")
        self.date_shift_hours = date_shift_hours
        self.rest_auth_style = rest_auth_style
        self.queue_polls = queue_polls
        self.item_fail_spelling = item_fail_spelling
        self.repeat_page_edge = repeat_page_edge
        self.page_hook = page_hook
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()
        self._next_task_id = 1000
        for account in accounts:
            self.add(account)

    def add(self, account: Account) -> Account:
        with self._lock:
            if account.api_key in self._accounts:
                raise ValueError(f"an account with API key {account.api_key!r} exists already")
            self._accounts[account.api_key] = account
        return account

    def account(self, api_key: str) -> Account:
        with self._lock:
            return self._accounts[api_key]

    def authenticate(self, api_key: str | None, api_secret: str | None) -> Account | None:
        """The account whose key and secret both match, else None."""
        with self._lock:
            account = self._accounts.get(api_key or "")
        if account is None or not hmac.compare_digest(
            (api_secret or "").encode(), account.api_secret.encode()
        ):
            return None
        return account

    def new_task_id(self) -> int:
        """The next write task's id, unique across the accounts, as N11's are."""
        with self._lock:
            task_id, self._next_task_id = self._next_task_id, self._next_task_id + 1
        return task_id

    def process_queued(self, account: Account, newest_first: bool = False) -> list[int]:
        """Process every queued task of the account now, as N11 does on its own time, oldest first or (with
        ``newest_first``) out of order; returns the task ids in the order processed."""
        with account.lock:
            queued = sorted((t for t in account.tasks.values() if t.status == "IN_QUEUE"), key=lambda t: t.id,
                            reverse=newest_first)
            for task in queued:
                self._process(account, task)
        return [task.id for task in queued]

    def _process(self, account: Account, task: WriteTask) -> None:
        """Run one queued task under the account's lock. Every run comes here (process_queued, and a task's details
        polled past ``queue_polls``), so a test can wrap it to change what N11 answers."""
        tasks.process(account, task, self.item_fail_spelling)
