"""Notification channels: email over SMTP."""
