"""domainsandbox: a local, deterministic sandbox of email-domain APIs backed by real DNS.

from sandbox import Sandbox, SandboxServer
with SandboxServer(Sandbox(seed=7)) as server:
    server.base_urls()["monite"]   # http://127.0.0.1:PORT/monite/v1

`WorkerPool(Sandbox(), workers=4)` does the same with four HTTP processes sharing the world.
"""

import warnings

from .version import __version__ as __version__

# Warnings the frameworks under the sandbox raise about their own dependencies as they are
# imported, theirs to fix: Connexion 3 imports jsonschema's RefResolver and RefResolutionError
# (deprecated since jsonschema 4.18), and its Starlette test client, which warns that it would
# rather have httpx2 than httpx (Starlette 1.x). Each is ignored only as raised there, so that
# a user's `pytest -W error` passes.
_THIRD_PARTY = [
    {"category": DeprecationWarning, "module": r"connexion\.json_schema"},
    {"category": Warning, "message": r"Using `httpx` with `starlette\.testclient` is deprecated"},
]


def ignore_third_party_warnings() -> None:
    """Ignore the warnings the frameworks raise as they are imported (see above): call it in a
    `warnings.catch_warnings()` block that imports the server, as the pytest plugin does."""
    for where in _THIRD_PARTY:
        warnings.filterwarnings("ignore", **where)


ignore_third_party_warnings()

__all__ = ["Sandbox", "SandboxServer", "WorkerPool"]


def __getattr__(name: str):
    # Imported on first use, so CLI commands that only talk to a running sandbox start fast.
    if name == "Sandbox":
        from .core import Sandbox

        return Sandbox
    if name == "SandboxServer":
        from .server import SandboxServer

        return SandboxServer
    if name == "WorkerPool":
        from .workers import WorkerPool

        return WorkerPool
    raise AttributeError(name)
