"""domainsandbox: a local, deterministic sandbox of email-domain APIs backed by real DNS.

from sandbox import Sandbox, SandboxServer
with SandboxServer(Sandbox(seed=7)) as server:
    server.base_urls()["monite"]   # http://127.0.0.1:PORT/monite/v1

`WorkerPool(Sandbox(), workers=4)` does the same with four HTTP processes sharing the world.
"""

import warnings

# Connexion imports Starlette's test client at start-up, which warns about httpx; not ours to fix.
warnings.filterwarnings("ignore", message=".*starlette.testclient.*")

__all__ = ["Sandbox", "SandboxServer", "WorkerPool"]
__version__ = "0.1.0"


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
