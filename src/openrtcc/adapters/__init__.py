"""Adapters: implementations of the domain's ports (database, storage, notification)."""
