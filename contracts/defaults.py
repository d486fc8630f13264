"""How a contract run runs unless told otherwise: kept apart from the runner, so that the CLI
can show them in its help without importing Schemathesis."""

PHASES = ("examples", "coverage", "fuzzing", "stateful")
# Modest: the full self-conformance run of every document fits in a few CI minutes.
DEFAULT_MAX_EXAMPLES = 20
# One fixed seed: the same run finds the same cases.
DEFAULT_SEED = 20260101
# How long one request may take before the run records it as an error. Generous for the
# sandbox; a remote server, or a long clock move on a busy world, may need more.
DEFAULT_REQUEST_TIMEOUT_SECONDS = 10.0
# The control API's: a generated POST /clock may move a world with daily re-checks years ahead,
# every check on the way a real DNS lookup (tens of seconds; calls after it wait for it).
CONTROL_REQUEST_TIMEOUT_SECONDS = 120.0
