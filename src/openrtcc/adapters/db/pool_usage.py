"""How full a process's database connection pool is (for the metrics a city operator watches)."""

from __future__ import annotations

from sqlalchemy import Engine


def pool_usage(engine: Engine) -> tuple[int, int] | None:
    """(connections checked out now, most the pool will open) of a queue pool; None for other pools."""
    pool = engine.pool
    checked_out, size = getattr(pool, "checkedout", None), getattr(pool, "size", None)
    if not callable(checked_out) or not callable(size):
        return None
    return checked_out(), size() + max(0, getattr(pool, "_max_overflow", 0))
