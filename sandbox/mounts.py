"""Where the sandbox's own APIs are served, beside the providers' mounts."""

CONTROL_MOUNT = "/_sandbox"  # the control API (openapi/control.yaml)
DASHBOARD_MOUNT = CONTROL_MOUNT + "/ui"  # the dashboard (sandbox/ui)
HEALTH_PATH = CONTROL_MOUNT + "/health"  # open to all: no token, any host name
