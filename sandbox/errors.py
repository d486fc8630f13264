"""The error every part of the sandbox raises for a client: a status and a sentence."""

from __future__ import annotations


class ProviderError(Exception):
    """An error answered in the shape of the API the request was for (each provider's own, or
    the control API's): raised by handlers and the front end, rendered by `Answer.error`."""

    def __init__(self, status: int, message: str, *, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.field, self.extra = status, message, field, extra

    def __reduce__(self):  # it crosses between processes under `serve --workers`
        return _provider_error, (self.status, self.message, self.field, self.extra)


def _provider_error(status: int, message: str, field: str | None, extra: dict) -> ProviderError:
    return ProviderError(status, message, field=field, **extra)
