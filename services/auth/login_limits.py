"""Brute-force limits on login (ASVS V2.2.1), counted in Redis per account and per IP."""

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from services.errors import RateLimited
from services.metrics import RATE_LIMITED

WINDOW_SECONDS = 3600
MAX_FAILURES_PER_ACCOUNT = 100
MAX_FAILURES_PER_IP = 1000
TOO_MANY = "Too many failed sign-in attempts. Try again later."
_REFUSED = RATE_LIMITED.labels(limit="failed_logins")


@dataclass(frozen=True, slots=True)
class LoginLimiter:
    redis: "Redis"

    @staticmethod
    def _keys(email: str, ip: str | None) -> tuple[str, str]:
        # Hashed: the key space must not become a list of e-mail addresses.
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"login:failures:account:{account}", f"login:failures:ip:{ip or 'unknown'}"

    async def reserve(self, email: str, ip: str | None) -> None:
        """Count this attempt as a failure before checking the password.

        Counting first makes concurrent attempts (101 aliased ``login`` fields in
        one document) unable to slip past the limit together. The window starts
        at the first failure. One round trip.
        """
        account_key, ip_key = self._keys(email, ip)
        async with self.redis.pipeline(transaction=True) as pipe:
            # SET NX starts the window only once; INCR keeps the expiry. (EXPIRE NX
            # would say the same but needs Redis 7.)
            pipe.set(account_key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(account_key)
            pipe.set(ip_key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(ip_key)
            pipe.ttl(account_key)
            pipe.ttl(ip_key)
            _, account_failures, _, ip_failures, account_ttl, ip_ttl = await pipe.execute()
        # A window ends when its key expires.
        waits = [account_ttl] if account_failures > MAX_FAILURES_PER_ACCOUNT else []
        waits += [ip_ttl] if ip_failures > MAX_FAILURES_PER_IP else []
        if waits:
            _REFUSED.inc()
            raise RateLimited(TOO_MANY, retry_after=max(waits))

    async def release(self, email: str, ip: str | None) -> None:
        """The attempt succeeded: it was not a failure after all."""
        account_key, ip_key = self._keys(email, ip)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.decr(account_key)
            pipe.decr(ip_key)
            await pipe.execute()
