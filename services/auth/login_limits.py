"""Brute-force limits on passwords (ASVS V2.2.1, OWASP's lock-out guidance), in Redis.

Failures are counted per (account, client IP), per account from all IPs and per IP.
Guessing at one account from one network locks out only that pair, so the owner
signing in from elsewhere keeps access; a spread-out attack on one account is
stopped by the per-account count, ten times higher; one IP trying many accounts by
the per-IP count. Each window is an hour from its first failure.
"""

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from services.errors import RateLimited
from services.metrics import RATE_LIMITED

WINDOW_SECONDS = 3600
MAX_FAILURES_PER_ACCOUNT_AND_IP = 100
MAX_FAILURES_PER_ACCOUNT = 1000
MAX_FAILURES_PER_IP = 1000
TOO_MANY = "Too many failed sign-in attempts. Try again later."
_REFUSED = RATE_LIMITED.labels(limit="failed_logins")


@dataclass(frozen=True, slots=True)
class LoginLimiter:
    redis: "Redis"

    @staticmethod
    def _keys(email: str, ip: str | None) -> list[tuple[str, int]]:
        # Hashed: the key space must not become a list of e-mail addresses.
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        client = ip or "unknown"
        return [
            (f"login:failures:pair:{account}:{client}", MAX_FAILURES_PER_ACCOUNT_AND_IP),
            (f"login:failures:account:{account}", MAX_FAILURES_PER_ACCOUNT),
            (f"login:failures:ip:{client}", MAX_FAILURES_PER_IP),
        ]

    async def reserve(self, email: str, ip: str | None) -> None:
        """Count this attempt as a failure before checking the password.

        Counting first makes concurrent attempts (101 aliased ``login`` fields in
        one document) unable to slip past the limit together. The window starts
        at the first failure. One round trip.
        """
        keys = self._keys(email, ip)
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, _ in keys:
                # SET NX starts the window only once; INCR keeps the expiry. (EXPIRE NX
                # would say the same but needs Redis 7.)
                pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
            replies = await pipe.execute()
        # A window ends when its key expires.
        waits = [
            ttl
            for (_, limit), failures, ttl in zip(keys, replies[1::3], replies[2::3], strict=True)
            if failures > limit
        ]
        if waits:
            _REFUSED.inc()
            raise RateLimited(TOO_MANY, retry_after=max(waits))

    async def release(self, email: str, ip: str | None) -> None:
        """The attempt succeeded: it was not a failure after all."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, _ in self._keys(email, ip):
                pipe.decr(key)
            await pipe.execute()
