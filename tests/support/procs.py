"""The services as real processes (shared with `plantrack bench`)."""

from services.bench.processes import APPS, GRACE_SECONDS, ROOT, ServiceProcess, free_port

__all__ = ["APPS", "GRACE_SECONDS", "ROOT", "ServiceProcess", "free_port"]
