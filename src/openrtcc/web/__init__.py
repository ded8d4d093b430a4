"""The hub's HTTP API and web pages: thin handlers over the services."""
