"""Contract testing against the providers' documents (Schemathesis), and the pytest plugin.

import contracts
result = contracts.run("monite")            # a private in-process sandbox
result = contracts.run("monite", base_url="https://api.sandbox.monite.com/v1",
                       headers={"Authorization": "Bearer ..."})
assert result.ok, result.summary()
"""

__all__ = ["PHASES", "ContractFailure", "ContractResult", "Unreachable", "profiles", "run"]


def __getattr__(name: str):
    # Imported on first use: the pytest plugin lives in this package, and every pytest session
    # that has domainsandbox installed should not pay for importing Schemathesis.
    if name == "PHASES":
        from .defaults import PHASES

        return PHASES
    if name == "profiles":
        from .profiles import profiles

        return profiles
    if name in __all__:
        from sandbox.extras import needs

        with needs("contracts", "contract testing"):
            from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
