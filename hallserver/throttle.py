"""Login throttling: growing delays per key, counted before the secret is checked.

An attempt is recorded *before* the password or PIN is verified (argon2 takes tens of milliseconds, and the
event loop serves other requests meanwhile), so twenty guesses sent at once are twenty attempts, not twenty
verifications: the ones past the free allowance are refused with 429 before anything is checked.

Keys (DESIGN.md §9): per account and address — the attacker's own budget —, per account — guesses spread over
many addresses —, and per address — one address trying many accounts (staff codes are not secret). Managers
and clerks have keys of their own. There is no lockout: past the free attempts each further attempt waits a
delay that doubles up to a cap, so a neighbour hammering the manager's name slows only themselves (their
(account, address) key), and the account key, which does slow everybody, needs more evaluated failures than
one address can make in its window (`LOGIN_RULES`, docs/api.md "Logins").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from hallcore.clock import Clock
from hallserver.errors import retry_later


@dataclass(frozen=True, slots=True)
class Backoff:
    """`free` attempts in `window_s`, then each next one only `base_s · 2^k` after the last (k = 0, 1, …),
    at most `max_s`."""

    free: int
    base_s: float
    max_s: float
    window_s: float
    #: A right secret wipes the key's count (an address's count only loses that one attempt: an insider's
    #: own good login must not buy more guesses at everybody else's PIN).
    forgiven: bool = True

    def delay(self, attempts: int) -> float:
        """How long after the last of `attempts` recent attempts the next one may come."""
        over = attempts - self.free
        if over < 0:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** min(over, 60))


#: (account, address): an address gets 5 tries, then 1 s, 2 s, 4 s … 5 min between tries (about 25 an hour).
PAIR = Backoff(free=5, base_s=1.0, max_s=300.0, window_s=3600.0)
#: Account, from every address: 20 tries an hour before anyone waits, then at most a minute: one address
#: cannot reach 20 in an hour quickly through its own key, so a neighbour does not slow the real user.
ACCOUNT = Backoff(free=20, base_s=1.0, max_s=60.0, window_s=3600.0)
#: Address, across accounts: spraying PINs over the (public) staff codes.
ADDRESS = Backoff(free=30, base_s=1.0, max_s=300.0, window_s=3600.0, forgiven=False)


def login_keys(kind: str, account: str, address: str) -> tuple[tuple[str, Backoff], ...]:
    """The keys of one login attempt; `kind` keeps managers' and clerks' counts apart."""
    return (
        (f"{kind}:{account}@{address}", PAIR),
        (f"{kind}:{account}", ACCOUNT),
        (f"{kind}@{address}", ADDRESS),
    )


class LoginThrottle:
    """Recent attempts per key (in memory: a restart forgets them, which only gives back one window)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._attempts: dict[str, deque[float]] = {}

    def _recent(self, key: str, rule: Backoff, now: float) -> deque[float]:
        q = self._attempts.get(key)
        if q is None:
            q = self._attempts[key] = deque()
        cutoff = now - rule.window_s
        while q and q[0] <= cutoff:
            q.popleft()
        return q

    def attempt(self, keys: Sequence[tuple[str, Backoff]]) -> None:
        """Record an attempt on every key, or raise 429 (recording nothing) when one of them must wait.
        Synchronous on purpose: no other request runs between the check and the record."""
        now = self.clock.monotonic()
        wait = 0.0
        queues = []
        for key, rule in keys:
            q = self._recent(key, rule, now)
            queues.append(q)
            if q:
                wait = max(wait, q[-1] + rule.delay(len(q)) - now)
        if wait > 0:
            raise retry_later(
                "too_many_attempts",
                "登录尝试过于频繁，请 {secs} 秒后再试",
                "too many login attempts: try again in {secs} s",
                wait,
            )
        for q in queues:
            q.append(now)

    def succeeded(self, keys: Sequence[tuple[str, Backoff]]) -> None:
        """The secret was right: whoever knows it owes no delay (see `Backoff.forgiven`)."""
        for key, rule in keys:
            if rule.forgiven:
                self._attempts.pop(key, None)
            elif q := self._attempts.get(key):
                q.pop()

    def forget_idle(self) -> None:
        """Drop keys with nothing recent (called now and then, so one-off names do not pile up)."""
        now = self.clock.monotonic()
        horizon = max(PAIR.window_s, ACCOUNT.window_s, ADDRESS.window_s)
        for key in [k for k, q in self._attempts.items() if not q or q[-1] <= now - horizon]:
            del self._attempts[key]
