"""Rate limits shared between processes: one upserted counter row per key and minute."""

from __future__ import annotations

import time

from django.db import connection, transaction

from leadrelay.intake.models import RateWindow


def allow(key: str, per_minute: int, now: float | None = None) -> bool:
    """Count one call for ``key`` and say whether it is within ``per_minute``."""
    if per_minute <= 0:
        return True
    window = int((now if now is not None else time.time()) // 60)
    q = connection.ops.quote_name
    table, k, w, c = q(RateWindow._meta.db_table), q("key"), q("window"), q("count")
    # One statement on both databases: the row is created or incremented atomically.
    sql = (
        f"INSERT INTO {table} ({k}, {w}, {c}) VALUES (%s, %s, 1) "
        f"ON CONFLICT ({k}, {w}) DO UPDATE SET {c} = {table}.{c} + 1 RETURNING {c}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [key[:200], window])
        row = cursor.fetchone()
    count = int(row[0]) if row else 1
    if count == 1 and window % 10 == 0:
        # Old windows are worthless; clear them now and then, not on every call.
        RateWindow.objects.filter(window__lt=window - 5).delete()
    return count <= per_minute
