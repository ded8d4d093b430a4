"""Subscribers' webhook and broker URLs: nothing that reaches loopback, private, link-local, multicast or reserved
addresses, however the address is spelt; the resolver's real answers are what is judged."""

from __future__ import annotations

import pytest

from openrtcc.adapters.notify.channels import check_subscriber_address
from openrtcc.adapters.notify.outbound_guard import (UnsafeOutboundUrl, check_broker_url, check_webhook_url,
                                                    resolve_checked)
from openrtcc.domain.dissemination import ChannelKind
from openrtcc.domain.errors import InvalidInput

REFUSED_HOSTS = [
    "127.0.0.1", "127.8.9.10", "localhost",  # loopback, also by a name resolving to it
    "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1",  # private and shared (CGNAT) ranges
    "169.254.169.254", "[fe80::1]",  # link-local: cloud metadata
    "[::1]", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[64:ff9b::a00:1]", "[fd00:ec2::254]",
    "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1",  # decimal, octal, hex, short forms
    "0.0.0.0", "224.0.0.1", "239.255.255.250", "[ff02::1]", "240.0.0.1", "255.255.255.255",
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_internal_addresses_are_refused_for_webhooks_and_brokers(host):
    with pytest.raises(UnsafeOutboundUrl) as exc:
        check_webhook_url(f"https://user:hunter2@{host}:8443/hook", allow_private=False)
    assert "hunter2" not in str(exc.value)
    with pytest.raises(UnsafeOutboundUrl):
        check_broker_url(f"mqtt://{host}:1883/city", allow_private=False)


def test_public_addresses_pass_and_private_ones_pass_only_when_the_deployment_allows_them():
    assert check_webhook_url("https://93.184.215.14/hook", allow_private=False).port == 443
    assert check_broker_url("mqtts://[2606:4700:4700::1111]/x", allow_private=False).port == 8883
    assert check_webhook_url("http://127.0.0.1:8080/hook", allow_private=True).host == "127.0.0.1"


def test_a_name_is_refused_when_any_of_its_addresses_is_internal():
    with pytest.raises(UnsafeOutboundUrl, match="10.0.0.5"):
        resolve_checked("mixed.example", 443, allow_private=False,
                        resolver=lambda host, port: ["93.184.215.14", "10.0.0.5"])


@pytest.mark.parametrize("url", ["ftp://example.org/", "https://", "https://exa mple.org/", "https://x:99999/",
                                 "javascript:alert(1)", "https://example.org/\r\nHost: evil", "x" * 600])
def test_malformed_webhook_urls_are_refused_with_a_reason(url):
    with pytest.raises(UnsafeOutboundUrl):
        check_webhook_url(url, allow_private=True)


@pytest.mark.parametrize("channel,address", [
    (ChannelKind.EMAIL, "resident@lakeport"), (ChannelKind.EMAIL, "a@b.org\r\nBcc: x@y.org"),
    (ChannelKind.SMS, "5551234567"), (ChannelKind.SMS, "+0123456789"), (ChannelKind.PUSH, "topic/../admin"),
    (ChannelKind.PUSH, ""), (ChannelKind.MQTT, "mqtt://93.184.215.14/city/#"),
    (ChannelKind.MQTT, "mqtt://93.184.215.14/a+b"),
    (ChannelKind.MQTT, "mqtt://127.0.0.1/city"), (ChannelKind.WEBHOOK, "http://169.254.169.254/latest/meta-data"),
])
def test_subscription_addresses_are_checked_per_channel(channel, address):
    with pytest.raises(InvalidInput):
        check_subscriber_address(channel, address, allow_private=False)


def test_good_subscription_addresses_pass():
    assert check_subscriber_address(ChannelKind.EMAIL, " resident@lakeport.test ", allow_private=False) \
        == "resident@lakeport.test"
    assert check_subscriber_address(ChannelKind.SMS, "+15551234567", allow_private=False) == "+15551234567"
    assert check_subscriber_address(ChannelKind.PUSH, "lakeport-alerts", allow_private=False) == "lakeport-alerts"
    assert check_subscriber_address(ChannelKind.MQTT, "mqtts://u:p@93.184.215.14/city", allow_private=False)
    assert check_subscriber_address(ChannelKind.WEBSOCKET, "ignored", allow_private=False) == ""
