"""The version of domainsandbox: one place, read by the package metadata and `--version`."""

__version__ = "0.1.0"
