"""How a contract run runs unless told otherwise: kept apart from the runner, so that the CLI
can show them in its help without importing Schemathesis."""

PHASES = ("examples", "coverage", "fuzzing", "stateful")
# Modest: the full self-conformance run of every document fits in a few CI minutes.
DEFAULT_MAX_EXAMPLES = 20
# One fixed seed: the same run finds the same cases.
DEFAULT_SEED = 20260101
