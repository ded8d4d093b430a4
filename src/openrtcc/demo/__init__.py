"""The demo city of Lakeport: a believable, deterministic camera network for `rtcc demo`."""
