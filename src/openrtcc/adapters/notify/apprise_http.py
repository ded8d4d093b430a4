"""apprise's HTTP plugins on kept-alive connections: one pooled `requests` session per plugin module.

apprise's plugins (twilio, ntfy and the rest) post each message with the module-level `requests.post`, which
makes a new session for that one request: a new connection, a new TLS handshake and a new TLS context that
loads the whole CA store again (43 ms of CPU per SMS here, two thirds of the hub's time in the dissemination
benchmark). apprise offers no way to hand a plugin a session, so `share_connections` gives the plugin's module
a `requests` of its own: the same names, except that its request functions go through one `requests.Session`
(connections kept alive and reused, one TLS context per pool). Each call keeps the arguments the plugin
passes (verify, auth, timeout, redirects) and still reads the environment as `requests.post` does
(HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE); certificates are verified exactly as before. Cookies a service
sets are not kept: one message must never carry state into the next."""

from __future__ import annotations

import sys
import threading
from http.cookiejar import DefaultCookiePolicy
from types import ModuleType
from typing import Any

import requests
from requests.adapters import HTTPAdapter

POOL_SIZE = 32  # connections kept per host: the senders' threads of the lanes that share a plugin


class PooledRequests:
    """Stands in for the `requests` module inside one apprise plugin module."""

    def __init__(self, pool_size: int = POOL_SIZE):
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # accept none

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, url, **kwargs)

    def get(self, url: str, params: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, params=params, **kwargs)

    def options(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)  # as requests.head
        return self.request("HEAD", url, **kwargs)

    def post(self, url: str, data: Any = None, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        """Close the kept connections (the session makes new ones if it is used again)."""
        self.session.close()

    def __getattr__(self, name: str) -> Any:  # codes, exceptions, Response ...: the real module's
        return getattr(requests, name)


_lock = threading.Lock()


def share_connections(service: object) -> PooledRequests | None:
    """Make the module of this apprise plugin instance post through a pooled session (once per module, for
    the whole process); the session it uses, or None for a plugin that does not use `requests` by that name."""
    module = sys.modules.get(type(service).__module__)
    if not isinstance(module, ModuleType):
        return None
    with _lock:
        current = getattr(module, "requests", None)
        if isinstance(current, PooledRequests):
            return current
        if current is not requests:
            return None
        pooled = PooledRequests()
        module.requests = pooled
        return pooled
