"""Event buses: in-process for the embedded hub."""
