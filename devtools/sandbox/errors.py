"""The refusal every path family shares, in a module of its own so the modules raising it need not import each
other (catalog and the endpoint handlers both raise it; the server renders it)."""


class ApiError(Exception):
    """A request N11 refuses as malformed; the server renders it in the envelope of the path family."""

    def __init__(self, exception: str, message: str) -> None:
        super().__init__(message)
        self.exception = exception
        self.message = message
