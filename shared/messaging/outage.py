"""One warning per outage: the first failure warns, repeats go to DEBUG, recovery says how long."""

import logging
from typing import Any


class OutageLog:
    """Logs a run of failures of one kind of attempt as one warning and one recovery line."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log = log
        self.what = what
        self.failures = 0

    def failed(self, message: str, *, exc_info: bool = False, **extra: Any) -> None:
        """Record one failed attempt; only the first of an outage is a warning."""
        self.failures += 1
        extra["failures"] = self.failures
        if self.failures == 1:
            self.log.warning(f"{self.what}: {message}; further failures are logged at DEBUG until it recovers",
                             exc_info=exc_info, extra=extra)
        else:
            self.log.debug(f"{self.what}: {message} (failure {self.failures} in a row)",
                           exc_info=exc_info, extra=extra)

    def succeeded(self) -> None:
        """Record a successful attempt; ends an outage with an INFO line counting its failures."""
        if self.failures:
            self.log.info(f"{self.what}: recovered after {self.failures} failed attempt(s)",
                          extra={"failures": self.failures})
            self.failures = 0
