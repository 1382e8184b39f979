"""Short-lived state shared by all processes: OIDC nonces, cached key sets, rate-limit guards.

The database by default; Redis when MEDIENWERK_REDIS_URL is set. Never a per-process cache.
"""

from lms.state.store import DbStateStore, RedisStateStore, get_state_store

__all__ = ["DbStateStore", "RedisStateStore", "get_state_store"]
