"""A local ONVIF camera for tests (a real camera cannot run here): it speaks the real protocols on loopback.

A UDP WS-Discovery responder answers Probe for dn:NetworkVideoTransmitter with a ProbeMatch; an HTTP SOAP
1.2 endpoint answers GetCapabilities, GetServices, GetProfiles and GetStreamUri, checking the WS-Security
UsernameToken PasswordDigest (and answering ter:NotAuthorized as cameras do) and, when `http_digest` is set,
HTTP Digest too. The stream URIs it hands
out are whatever the test gives it (the real RTSP server's). Tests make it lie through its attributes:
`xaddr` (a forged device-service address), `stream_uris` (forged stream URIs), `probe_reply` and
`soap_replies` (raw hostile bytes). It is written independently of openrtcc.edge.onvif_soap on purpose, so
the two are checked against each other rather than against themselves. Test support, not product code.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{s}" xmlns:wsa="{a}" '
            'xmlns:wsd="{d}" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="{tds}" '
            'xmlns:trt="{trt}" xmlns:tt="{tt}" xmlns:ter="http://www.onvif.org/ver10/error">'
            '<SOAP-ENV:Header>{{header}}</SOAP-ENV:Header><SOAP-ENV:Body>{{body}}</SOAP-ENV:Body>'
            '</SOAP-ENV:Envelope>').format(**NS)
NEEDS_AUTH = {"GetProfiles", "GetStreamUri"}  # GetCapabilities/GetServices are open, as on most cameras


class OnvifTestCamera:
    def __init__(self, stream_uris: dict[str, str], *, username: str = "admin", password: str = "secret",
                 host: str = "127.0.0.1", name: str = "Driveway Cam", hardware: str = "TC-2000"):
        self.stream_uris = dict(stream_uris)  # profile token -> URI; "main" first
        self.username, self.password, self.host, self.name, self.hardware = username, password, host, name, hardware
        self.endpoint = "urn:uuid:6b1c0e5e-0000-4000-8000-00000000c0de"
        self.requests: list[str] = []  # SOAP operations received, in order
        self.probes = 0
        self.xaddr: str | None = None  # None: this device's own service address
        self.probe_reply: bytes | None = None
        self.soap_replies: dict[str, bytes] = {}
        self.http_challenges = 0
        self.http_digest = False  # True: the camera also asks for HTTP Digest (RFC 7616, MD5, qop=auth)
        self.realm, self.nonce = "onvif-test-camera", "5f1b8a6c2d"
        self._http = ThreadingHTTPServer((host, 0), _handler(self))
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((host, 0))
        self._threads = [threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True),
                         threading.Thread(target=self._answer_probes, daemon=True)]

    @property
    def probe_address(self) -> str:
        return f"{self.host}:{self._udp.getsockname()[1]}"

    @property
    def service_url(self) -> str:
        return f"http://{self.host}:{self._http.server_address[1]}/onvif/device_service"

    def __enter__(self) -> OnvifTestCamera:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._udp.close()

    def _answer_probes(self) -> None:
        while True:
            try:
                data, source = self._udp.recvfrom(65535)
            except OSError:
                return
            root = ET.fromstring(data)
            message_id = root.findtext("s:Header/a:MessageID", namespaces=NS)
            types = root.findtext("s:Body/d:Probe/d:Types", default="", namespaces=NS)
            if "NetworkVideoTransmitter" not in types:
                continue
            self.probes += 1
            reply = self.probe_reply or self._probe_match(message_id).encode()
            self._udp.sendto(reply, source)

    def _probe_match(self, message_id: str) -> str:
        scopes = (f"onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/{self.name.replace(' ', '%20')}"
                  f" onvif://www.onvif.org/hardware/{self.hardware}")
        header = ("<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>"
                  f"<wsa:RelatesTo>{message_id}</wsa:RelatesTo>")
        body = (f"<wsd:ProbeMatches><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>{self.endpoint}"
                "</wsa:Address></wsa:EndpointReference><wsd:Types>dn:NetworkVideoTransmitter</wsd:Types>"
                f"<wsd:Scopes>{scopes}</wsd:Scopes><wsd:XAddrs>{self.xaddr or self.service_url}</wsd:XAddrs>"
                "<wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:ProbeMatch></wsd:ProbeMatches>")
        return ENVELOPE.format(header=header, body=body)

    def answer(self, request: bytes) -> tuple[int, bytes]:
        root = ET.fromstring(request)
        body = root.find("s:Body", NS)
        operation = body[0].tag.rpartition("}")[2]
        self.requests.append(operation)
        if operation in self.soap_replies:
            return 200, self.soap_replies[operation]
        if operation in NEEDS_AUTH and not self._authorised(root):
            return 400, _fault("ter:NotAuthorized", "Sender not Authorized").encode()
        media = self.service_url.replace("device_service", "media_service")
        if operation == "GetCapabilities":
            return 200, _ok(f"<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>{media}</tt:XAddr>"
                            "</tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>")
        if operation == "GetProfiles":
            return 200, _ok("<trt:GetProfilesResponse>" + "".join(
                _profile(token, i) for i, token in enumerate(self.stream_uris)) + "</trt:GetProfilesResponse>")
        if operation == "GetStreamUri":
            token = body[0].findtext("trt:ProfileToken", namespaces=NS)
            if token not in self.stream_uris:
                return 400, _fault("ter:InvalidArgVal", "no such profile").encode()
            return 200, _ok(f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{self.stream_uris[token]}</tt:Uri>"
                            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false"
                            "</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>"
                            "</trt:GetStreamUriResponse>")
        return 400, _fault("ter:ActionNotSupported", operation).encode()

    def http_authorised(self, header: str | None, uri: str) -> bool:
        """Checks an `Authorization: Digest ...` header the way a camera does (RFC 7616, MD5, qop=auth)."""
        if not header or not header.startswith("Digest "):
            return False
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[len("Digest "):]))
        ha1 = hashlib.md5(f"{self.username}:{self.realm}:{self.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"POST:{uri}".encode()).hexdigest()
        expected = hashlib.md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}"
                               .encode()).hexdigest()
        return (fields.get("username") == self.username and fields.get("nonce") == self.nonce
                and fields.get("response") == expected)

    def _authorised(self, root: ET.Element) -> bool:
        token = root.find("s:Header/wsse:Security/wsse:UsernameToken", NS)
        if token is None:
            return False
        nonce = base64.b64decode(token.findtext("wsse:Nonce", default="", namespaces=NS))
        created = token.findtext("wsu:Created", default="", namespaces=NS)
        expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + self.password.encode()).digest()).decode()
        try:
            age = datetime.now(UTC) - datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return False
        return (token.findtext("wsse:Username", namespaces=NS) == self.username
                and token.findtext("wsse:Password", namespaces=NS) == expected and abs(age) < timedelta(minutes=5))


def _profile(token: str, index: int) -> str:
    width, height = (1280, 720) if index == 0 else (640, 360)
    return (f'<trt:Profiles token="{token}" fixed="true"><tt:Name>{token.title()}Stream</tt:Name>'
            f'<tt:VideoEncoderConfiguration token="venc{index}"><tt:Name>venc{index}</tt:Name><tt:UseCount>1'
            f"</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>{width}</tt:Width><tt:Height>"
            f"{height}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality></tt:VideoEncoderConfiguration>"
            "</trt:Profiles>")


def _ok(body: str) -> bytes:
    return ENVELOPE.format(header="", body=body).encode()


def _fault(subcode: str, reason: str) -> str:
    return ENVELOPE.format(header="", body=(
        "<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value><SOAP-ENV:Subcode>"
        f"<SOAP-ENV:Value>{subcode}</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason>"
        f'<SOAP-ENV:Text xml:lang="en">{reason}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>'))


def _handler(camera: OnvifTestCamera):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            request = self.rfile.read(length)
            if camera.http_digest and not camera.http_authorised(self.headers.get("Authorization"), self.path):
                camera.http_challenges += 1
                self.send_response(401)
                self.send_header("WWW-Authenticate", f'Digest realm="{camera.realm}", nonce="{camera.nonce}", '
                                                     'qop="auth", algorithm=MD5')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, payload = camera.answer(request)
            self.send_response(status)
            self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    return Handler
