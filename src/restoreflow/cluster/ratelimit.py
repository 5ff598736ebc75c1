"""A client-side token bucket (QPS and burst) shared by every call of one restore, like client-go's."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """`qps` tokens per second, at most `burst` saved up; qps <= 0 means unlimited."""

    def __init__(self, qps: float, burst: int):
        self.qps = float(qps)
        self.burst = max(1, int(burst))
        self._tokens = float(self.burst)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Take one token, sleeping until it is due (reservations keep callers in FIFO-ish order)."""
        if self.qps <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.qps)
            self._stamp = now
            self._tokens -= 1.0
            wait = -self._tokens / self.qps if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
