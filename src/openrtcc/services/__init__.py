"""Use cases: each orchestrates domain rules and ports inside one audited unit of work."""
