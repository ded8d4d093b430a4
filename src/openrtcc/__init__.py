"""OpenRTCC: an open-source real-time crime center for community camera networks."""

__version__ = "0.1.0"
