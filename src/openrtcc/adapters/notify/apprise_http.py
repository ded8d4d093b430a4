"""apprise's HTTP plugins on kept-alive connections: one pooled `requests` session per plugin module.

apprise's plugins (twilio, ntfy and the rest) post each message with the module-level `requests.post`, which
makes a new session for that one request: a new connection, a new TLS handshake and a new TLS context that
loads the whole CA store again (43 ms of CPU per SMS here, two thirds of the hub's time in the dissemination
benchmark). apprise offers no way to hand a plugin a session, so `share_connections` gives the plugin's module
a `requests` of its own: the same names, except that its request functions go through one `requests.Session`
(connections kept alive and reused, one TLS context per pool). Each call keeps the arguments the plugin
passes (verify, auth, timeout, redirects) and still reads the environment as `requests.post` does
(HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE); certificates are verified exactly as before. Cookies a service
sets are not kept: one message must never carry state into the next. What requests reads from the
environment for a request (it scans every variable, twice, per request: a third of an SMS's CPU) is kept per
host for as long as the variables it depends on keep their values."""

from __future__ import annotations

import os
import sys
import threading
from http.cookiejar import DefaultCookiePolicy
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

POOL_SIZE = 32  # connections kept per host: the senders' threads of the lanes that share a plugin
# What requests' merge_environment_settings reads for an http(s) URL: the proxies (lower case first, as
# urllib reads them; HTTP_PROXY is ignored under CGI), the hosts that bypass them, and the CA bundle.
ENVIRONMENT = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
               "NO_PROXY", "REQUEST_METHOD", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
KEPT_SETTINGS = 256


class EnvironmentKeptSession(requests.Session):
    """A requests session that reads the environment per host and per value of the variables that matter,
    instead of scanning all of it for every request; the settings are the ones requests itself works out."""

    def __init__(self):
        super().__init__()
        self._kept: dict[tuple, dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies or not self.trust_env:  # a caller's own proxies: as requests does it
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert, tuple(os.environ.get(n) for n in ENVIRONMENT))
        settings = self._kept.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, {}, stream, verify, cert)
            if len(self._kept) >= KEPT_SETTINGS:
                self._kept.clear()
            self._kept[key] = settings
        return {**settings, "proxies": dict(settings["proxies"])}


class PooledRequests:
    """Stands in for the `requests` module inside one apprise plugin module."""

    def __init__(self, pool_size: int = POOL_SIZE):
        self.session = EnvironmentKeptSession()
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
