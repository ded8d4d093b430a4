"""Wires plate-read partition upkeep into a serving PostgreSQL hub: day partitions made ahead of the clock."""

from __future__ import annotations

import logging

from openrtcc.config import Settings
from openrtcc.domain.audit import AuditEntry
from openrtcc.periodic import PeriodicTask
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)

# Hourly, making today, yesterday and the next three days: a hub down for up to three days still finds its
# partitions; reads of a day that has none go to the DEFAULT partition and move into the day's partition when
# the upkeep makes it.
PARTITION_UPKEEP_S = 3600
DAYS_AHEAD = 3


def wire(hub: Hub, settings: Settings) -> None:
    """Adds the partition upkeep to hub.extras["background"] on PostgreSQL (SQLite has no partitions)."""
    if hub.extras["engine"].dialect.name != "postgresql":
        return
    hub.extras["background"].append(PeriodicTask("read-partitions", PARTITION_UPKEEP_S,
                                                 lambda: keep_partitions_ahead(hub), at_start=True))


def keep_partitions_ahead(hub: Hub) -> list[str]:
    """Make the missing day partitions; each one made is audited (it is a change to where reads are kept)."""
    with hub.uow() as uow:
        made = uow.read_partitions.ensure_ahead(hub.clock.now(), DAYS_AHEAD)
        if not made:
            uow.rollback()
            return made
        uow.record(AuditEntry("reads.partitions_create", "success", None, None, "plate_read", None,
                              {"partitions": made}))
        uow.commit()
    log.info("read partitions made: %s", ", ".join(made))
    return made
