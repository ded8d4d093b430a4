"""ONVIF messages: the WS-Security digest against the ONVIF programmer's guide example, and answers parsed
strictly (our probe only, video transmitters only, faults told apart)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from openrtcc.edge import onvif_soap as soap


def test_password_digest_matches_the_onvif_guide_example():
    token = soap.username_token("user", "userpassword", datetime(2010, 9, 16, 7, 50, 45, tzinfo=UTC),
                                nonce=base64.b64decode("LKqI6G/AikKCQrN0zqZFlg=="))
    assert "<wsse:Password Type=\"" in token and ">tuOSpGlFlIXsozq4HFNeeGeFLEI=</wsse:Password>" in token
    assert "<wsu:Created>2010-09-16T07:50:45Z</wsu:Created>" in token and "userpassword" not in token


def test_a_username_is_escaped_in_the_token():
    token = soap.username_token('a<b&"c', "pw", datetime(2026, 1, 1, tzinfo=UTC))
    assert "<wsse:Username>a&lt;b&amp;&quot;c</wsse:Username>" in token


def _matches(relates_to: str, types: str) -> bytes:
    return (f'<e:Envelope xmlns:e="{soap.SOAP_ENV}" xmlns:a="{soap.WSA}" xmlns:d="{soap.WSD}">'
            f"<e:Header><a:RelatesTo>{relates_to}</a:RelatesTo></e:Header><e:Body><d:ProbeMatches><d:ProbeMatch>"
            "<a:EndpointReference><a:Address>urn:uuid:1</a:Address></a:EndpointReference>"
            f"<d:Types>{types}</d:Types><d:Scopes>onvif://www.onvif.org/name/Porch%20Cam</d:Scopes>"
            "<d:XAddrs>http://10.0.0.2/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches>"
            "</e:Body></e:Envelope>").encode()


def test_probe_matches_only_for_our_probe_and_only_video_transmitters():
    [m] = soap.parse_probe_matches(_matches("urn:uuid:ours", "tdn:NetworkVideoTransmitter"), "urn:uuid:ours")
    assert m.xaddrs == ("http://10.0.0.2/onvif/device_service",) and m.scope("name") == "Porch Cam"
    assert soap.parse_probe_matches(_matches("urn:uuid:other", "dn:NetworkVideoTransmitter"), "urn:uuid:ours") == []
    assert soap.parse_probe_matches(_matches("urn:uuid:ours", "dp:Printer"), "urn:uuid:ours") == []


def _fault(subcode: str) -> bytes:
    return (f'<e:Envelope xmlns:e="{soap.SOAP_ENV}"><e:Body><e:Fault><e:Code><e:Value>e:Sender</e:Value>'
            f"<e:Subcode><e:Value>{subcode}</e:Value></e:Subcode></e:Code><e:Reason><e:Text>no</e:Text>"
            "</e:Reason></e:Fault></e:Body></e:Envelope>").encode()


def test_faults_are_told_apart():
    with pytest.raises(soap.OnvifNotAuthorized, match="refused the credentials"):
        soap.soap_body(_fault("ter:NotAuthorized"), "GetProfiles")
    with pytest.raises(soap.OnvifError, match="ter:InvalidArgVal") as other:
        soap.soap_body(_fault("ter:InvalidArgVal"), "GetStreamUri")
    assert not isinstance(other.value, soap.OnvifNotAuthorized)
    with pytest.raises(soap.OnvifError, match="not a SOAP 1.2 envelope"):
        soap.soap_body(b"<html/>", "GetProfiles")
