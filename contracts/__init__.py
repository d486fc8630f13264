"""Contract testing against the providers' documents (Schemathesis), and the pytest plugin.

import contracts
result = contracts.run("monite")            # a private in-process sandbox
result = contracts.run("monite", base_url="https://api.sandbox.monite.com/v1",
                       headers={"Authorization": "Bearer ..."})
assert result.ok, result.summary()
"""

from .profiles import profiles
from .runner import PHASES, ContractFailure, ContractResult, run

__all__ = ["PHASES", "ContractFailure", "ContractResult", "profiles", "run"]
