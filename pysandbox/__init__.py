"""pysandbox: hardened Linux sandboxes, image/Dockerfile scanning and a tamper-evident audit log."""

__version__ = "0.1.0"
