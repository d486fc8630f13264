"""domainsandbox: a local, deterministic sandbox of email-domain APIs backed by real DNS.

from sandbox import Sandbox, SandboxServer
with SandboxServer(Sandbox(seed=7)) as server:
    server.base_urls()["monite"]   # http://127.0.0.1:PORT/monite/v1
"""

from .core import Sandbox
from .server import SandboxServer

__all__ = ["Sandbox", "SandboxServer"]
__version__ = "0.1.0"
