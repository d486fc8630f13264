"""An in-process DNS server with controllable records and faults, built on dnslib.

from fake_dns import FakeDNS
with FakeDNS() as dns:
    dns.zone.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none")
    ...  # point a resolver at dns.host, dns.port (UDP and TCP)
"""

from .clock import SystemClock
from .faults import Faults
from .querylog import QueryLog
from .server import FakeDNS
from .zone import Zone
from .zonefile import ZoneFileError, load_zone_file

__all__ = [
    "FakeDNS",
    "Faults",
    "QueryLog",
    "SystemClock",
    "Zone",
    "ZoneFileError",
    "load_zone_file",
]
