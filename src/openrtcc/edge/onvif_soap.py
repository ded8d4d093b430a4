"""ONVIF messages as the box writes and reads them: WS-Discovery Probe/ProbeMatch, device and media SOAP
(GetCapabilities, GetServices, GetProfiles, GetStreamUri) and the WS-Security UsernameToken digest.

Everything here is text in, values out; the network is in edge/discovery.py. Answers come from devices on
the LAN, so they are parsed as hostile: a size cap, no DTD and no entity declarations (billion laughs),
and any missing or ill-typed element is an `OnvifError` naming what was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote
from xml.parsers import expat

MAX_XML_BYTES = 256 * 1024
SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
DN = "http://www.onvif.org/ver10/network/wsdl"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TT = "http://www.onvif.org/ver10/schema"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PROBE_ACTION = f"{WSD}/Probe"
NVT_TYPE = "NetworkVideoTransmitter"


class OnvifError(Exception):
    """A device answered with something the box cannot use; the message says what."""


class OnvifNotAuthorized(OnvifError):
    """The device refused the credentials (or wants some and none were given)."""


@dataclass(frozen=True)
class ProbeMatch:
    endpoint: str  # the device's stable id, urn:uuid:...
    xaddrs: tuple[str, ...]  # its device-service URLs
    scopes: tuple[str, ...]

    def scope(self, kind: str) -> str | None:
        """The value of an onvif://www.onvif.org/<kind>/<value> scope (name, hardware, location)."""
        prefix = f"onvif://www.onvif.org/{kind}/"
        for s in self.scopes:
            if s.startswith(prefix) and len(s) > len(prefix):
                return re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", unquote(s[len(prefix):]))[:120]
        return None


@dataclass(frozen=True)
class MediaProfile:
    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None


def parse_xml(data: bytes) -> ET.Element:
    """Parse a device's answer, refusing oversize documents, any DTD and any entity declaration."""
    if len(data) > MAX_XML_BYTES:
        raise OnvifError(f"the answer is larger than {MAX_XML_BYTES // 1024} KiB")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")

    def refuse(*_args) -> None:
        raise OnvifError("the answer carries a DTD or entity declarations, which are refused")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = lambda name, attrs: builder.start(
        _clark(name), {_clark(k): v for k, v in attrs.items()})
    parser.EndElementHandler = lambda name: builder.end(_clark(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        return builder.close()
    except expat.ExpatError as exc:
        raise OnvifError(f"the answer is not well-formed XML ({exc})") from None
    except AssertionError:  # TreeBuilder on a document with no element
        raise OnvifError("the answer holds no XML element") from None


def _clark(name: str) -> str:
    return "{" + name if "}" in name else name


def probe_message(message_id: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:a="{WSA}" xmlns:d="{WSD}" xmlns:dn="{DN}"><s:Header>'
            f'<a:Action s:mustUnderstand="1">{PROBE_ACTION}</a:Action><a:MessageID>{message_id}</a:MessageID>'
            f'<a:ReplyTo><a:Address>{WSA}/role/anonymous</a:Address></a:ReplyTo>'
            f'<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>'
            f'<s:Body><d:Probe><d:Types>dn:{NVT_TYPE}</d:Types></d:Probe></s:Body></s:Envelope>').encode()


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def parse_probe_matches(data: bytes, message_id: str) -> list[ProbeMatch]:
    """The video transmitters in a ProbeMatches answer to our probe; an answer to another probe: none."""
    root = parse_xml(data)
    relates_to = _text(root.find(f"{{{SOAP_ENV}}}Header/{{{WSA}}}RelatesTo"))
    if relates_to != message_id:
        return []  # an unsolicited or replayed answer
    matches = []
    for m in root.iterfind(f"{{{SOAP_ENV}}}Body/{{{WSD}}}ProbeMatches/{{{WSD}}}ProbeMatch"):
        types = _text(m.find(f"{{{WSD}}}Types")).split()
        if not any(t.rpartition(":")[2] == NVT_TYPE for t in types):
            continue
        endpoint = _text(m.find(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address"))
        xaddrs = tuple(_text(m.find(f"{{{WSD}}}XAddrs")).split())
        if not endpoint or not xaddrs:
            raise OnvifError("a ProbeMatch has no endpoint address or no XAddrs")
        matches.append(ProbeMatch(endpoint, xaddrs[:8], tuple(_text(m.find(f"{{{WSD}}}Scopes")).split()[:64])))
    return matches


def soap_request(body: str, security: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP_ENV}" xmlns:tds="{TDS}" '
            f'xmlns:trt="{TRT}" xmlns:tt="{TT}"><s:Header>{security}</s:Header><s:Body>{body}</s:Body>'
            f'</s:Envelope>').encode()


def username_token(username: str, password: str, created: datetime, nonce: bytes | None = None) -> str:
    """WS-Security UsernameToken with PasswordDigest = base64(sha1(nonce + created + password))."""
    nonce = nonce if nonce is not None else secrets.token_bytes(16)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode()).digest()).decode()
    return (f'<wsse:Security s:mustUnderstand="1" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
            f'<wsse:Username>{_escape(username)}</wsse:Username>'
            f'<wsse:Password Type="{TOKEN_PROFILE}#PasswordDigest">{digest}</wsse:Password>'
            f'<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-soap-message-security'
            f'-1.0#Base64Binary">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
            f'<wsu:Created>{stamp}</wsu:Created></wsse:UsernameToken></wsse:Security>')


GET_CAPABILITIES = "<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>"
GET_SERVICES = "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>"
GET_PROFILES = "<trt:GetProfiles/>"


def get_stream_uri(profile_token: str) -> str:
    return ("<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>"
            "<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>"
            f"<trt:ProfileToken>{_escape(profile_token)}</trt:ProfileToken></trt:GetStreamUri>")


def soap_body(data: bytes, what: str) -> ET.Element:
    """The first element of the answer's Body; a SOAP Fault becomes OnvifError (NotAuthorized its own)."""
    root = parse_xml(data)
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise OnvifError(f"{what}: the answer is not a SOAP 1.2 envelope")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None or len(body) == 0:
        raise OnvifError(f"{what}: the answer has an empty body")
    first = body[0]
    if first.tag == f"{{{SOAP_ENV}}}Fault":
        codes = " ".join(_text(v) for v in first.iter(f"{{{SOAP_ENV}}}Value"))
        reason = _text(first.find(f"{{{SOAP_ENV}}}Reason/{{{SOAP_ENV}}}Text"))[:200]
        if "NotAuthorized" in codes or "FailedAuthentication" in codes:
            raise OnvifNotAuthorized(f"{what}: the camera refused the credentials ({reason or 'NotAuthorized'})")
        raise OnvifError(f"{what}: the camera answered with a fault: {codes} {reason}".strip())
    return first


def parse_media_xaddr(capabilities: ET.Element) -> str | None:
    """The media service URL from GetCapabilitiesResponse."""
    return _text(capabilities.find(f".//{{{TT}}}Media/{{{TT}}}XAddr")) or None


def parse_media_service(services: ET.Element) -> str | None:
    """The media (ver10) service URL from GetServicesResponse."""
    for service in services.iterfind(f"{{{TDS}}}Service"):
        if _text(service.find(f"{{{TDS}}}Namespace")) == TRT:
            return _text(service.find(f"{{{TDS}}}XAddr")) or None
    return None


def parse_profiles(profiles: ET.Element) -> list[MediaProfile]:
    found = []
    for p in profiles.iterfind(f"{{{TRT}}}Profiles"):
        token = p.get("token", "")
        if not token or len(token) > 64:
            raise OnvifError("GetProfiles: a profile has no usable token")
        video = p.find(f"{{{TT}}}VideoEncoderConfiguration")
        encoding = width = height = None
        if video is not None:
            encoding = _text(video.find(f"{{{TT}}}Encoding")) or None
            width = _int(video.find(f"{{{TT}}}Resolution/{{{TT}}}Width"), "Width")
            height = _int(video.find(f"{{{TT}}}Resolution/{{{TT}}}Height"), "Height")
        found.append(MediaProfile(token, _text(p.find(f"{{{TT}}}Name"))[:120] or token, encoding, width, height))
    return found


def parse_stream_uri(response: ET.Element) -> str:
    uri = _text(response.find(f"{{{TRT}}}MediaUri/{{{TT}}}Uri"))
    if not uri:
        raise OnvifError("GetStreamUri: the answer holds no MediaUri/Uri")
    return uri


def _int(element: ET.Element | None, what: str) -> int | None:
    text = _text(element)
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= 16384:
        raise OnvifError(f"GetProfiles: {what} is not a size in pixels ({text[:20]!r})")
    return int(text)


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


