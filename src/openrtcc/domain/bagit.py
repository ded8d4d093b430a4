"""BagIt (RFC 8493) with SHA-256: the tag files of a bag, and checking a bag's files against its manifests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

BAGIT_TXT = "bagit.txt"
BAG_INFO = "bag-info.txt"
MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
BAGIT_DECLARATION = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
CHUNK = 1024 * 1024
MAX_TAG_FILE_BYTES = 16 * 1024 * 1024  # a manifest of a very large case is a few MB; more is not a manifest
_MANIFEST_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64})[ \t]+(?P<path>.+)$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


class BagSink(Protocol):
    """Where a bag is written (a zip file, a folder); every path is relative to the bag's base directory."""

    def add(self, path: str, stream: BinaryIO) -> tuple[int, str]:
        """Copies the stream in; returns the size and SHA-256 of the bytes written."""

    def add_bytes(self, path: str, data: bytes) -> tuple[int, str]: ...


class BagReader(Protocol):
    """A bag being checked: its regular files by relative path ('/'-separated)."""

    def names(self) -> list[str]: ...
    def open(self, path: str) -> BinaryIO: ...


class BagProblem(Exception):
    """What is wrong with a bag, naming the file."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path


def sha256_stream(stream: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def encode_path(path: str) -> str:
    """RFC 8493 2.1.3: %, CR and LF in a manifest's file path are percent-encoded."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(path: str) -> str:
    return path.replace("%0A", "\n").replace("%0a", "\n").replace("%0D", "\r").replace("%0d", "\r") \
        .replace("%25", "%")


def manifest_text(entries: Iterable[tuple[str, str]]) -> bytes:
    """One `sha256  path` line per file, sorted by path."""
    return "".join(f"{digest}  {encode_path(path)}\n" for path, digest in sorted(entries)).encode()


def info_value(value: object) -> str:
    """A bag-info value on one line: control characters (a newline would start a forged label) become spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(value)).split())


def bag_info_text(fields: Iterable[tuple[str, object]]) -> bytes:
    lines = []
    for label, value in fields:
        if not _LABEL.match(label):
            raise ValueError(f"bad bag-info label {label!r}")
        lines.append(f"{label}: {info_value(value)}\n")
    return "".join(lines).encode()


def payload_oxum(sizes: Iterable[int]) -> str:
    """`octets.streams` of the payload (RFC 8493 2.2.2)."""
    sizes = list(sizes)
    return f"{sum(sizes)}.{len(sizes)}"


def _safe_relative(path: str, manifest: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise BagProblem(f"{manifest} names an unsafe path {path!r}", manifest)
    return path


def parse_manifest(text: bytes, name: str) -> dict[str, str]:
    """{path: sha256}; BagProblem for a malformed line, a bad digest, an unsafe or repeated path."""
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise BagProblem(f"{name} is not UTF-8", name) from None
    out: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        found = _MANIFEST_LINE.match(line)
        if found is None:
            raise BagProblem(f"{name} line {number} is not `sha256 path`", name)
        path = _safe_relative(decode_path(found["path"]), name)
        if path in out:
            raise BagProblem(f"{name} lists {path} twice", name)
        out[path] = found["digest"].lower()
    return out


def parse_bag_info(text: bytes) -> list[tuple[str, str]]:
    """Labels and values in order; a line starting with white space continues the value before it."""
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise BagProblem(f"{BAG_INFO} is not UTF-8", BAG_INFO) from None
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and fields:
            label, value = fields[-1]
            fields[-1] = (label, f"{value} {line.strip()}")
            continue
        label, sep, value = line.partition(":")
        if not sep or not _LABEL.match(label.strip()):
            raise BagProblem(f"{BAG_INFO} has a line that is not `Label: value`", BAG_INFO)
        fields.append((label.strip(), value.strip()))
    return fields


@dataclass(frozen=True, slots=True)
class BagContents:
    """A bag whose payload and tag files matched their manifests."""

    payload: dict[str, str]  # path -> sha256
    info: list[tuple[str, str]]
    tags: dict[str, bytes]  # every tag file (not under data/), read whole


def read_tag(bag: BagReader, path: str) -> bytes:
    with bag.open(path) as f:
        data = f.read(MAX_TAG_FILE_BYTES + 1)
    if len(data) > MAX_TAG_FILE_BYTES:
        raise BagProblem(f"{path} is too large to be a tag file", path)
    return data


def check_bag(bag: BagReader, before_tag_manifest: Callable[[BagContents], None] | None = None) -> BagContents:
    """Checks the bag and returns its contents, or raises BagProblem naming the first problem, in this order: the
    declaration, the payload manifest, each listed payload file (missing, then altered, by path), payload files
    the manifest does not list, the Payload-Oxum, then `before_tag_manifest` (the signature's check), then the
    tag manifest and tag files it does not list."""
    names = set(bag.names())
    for required in (BAGIT_TXT, MANIFEST, BAG_INFO):
        if required not in names:
            raise BagProblem(f"{required} is missing: this is not a complete bag", required)
    if not read_tag(bag, BAGIT_TXT).startswith(b"BagIt-Version: 1."):
        raise BagProblem(f"{BAGIT_TXT} does not declare BagIt version 1.x", BAGIT_TXT)
    payload = parse_manifest(read_tag(bag, MANIFEST), MANIFEST)
    sizes = _check_payload(bag, names, payload)
    info = parse_bag_info(read_tag(bag, BAG_INFO))
    oxum = dict(info).get("Payload-Oxum")
    if oxum is not None and oxum != payload_oxum(sizes):
        raise BagProblem(f"{BAG_INFO} says Payload-Oxum {oxum}, the payload is {payload_oxum(sizes)}", BAG_INFO)
    tags = {n: read_tag(bag, n) for n in sorted(names) if not n.startswith("data/")}
    contents = BagContents(payload, info, tags)
    if before_tag_manifest is not None:
        before_tag_manifest(contents)
    _check_tag_manifest(bag, tags)
    return contents


def _check_payload(bag: BagReader, names: set[str], payload: dict[str, str]) -> list[int]:
    for path in sorted(payload):
        if not path.startswith("data/"):
            raise BagProblem(f"{MANIFEST} lists {path}, which is outside data/", MANIFEST)
        if path not in names:
            raise BagProblem(f"{path} is missing (listed in {MANIFEST})", path)
    sizes = []
    for path in sorted(payload):
        with bag.open(path) as f:
            size, digest = sha256_stream(f)
        if digest != payload[path]:
            raise BagProblem(f"{path} was altered: its SHA-256 is not the one in {MANIFEST}", path)
        sizes.append(size)
    extra = sorted(n for n in names if n.startswith("data/") and n not in payload)
    if extra:
        raise BagProblem(f"{extra[0]} was added: it is not in {MANIFEST}", extra[0])
    return sizes


def _check_tag_manifest(bag: BagReader, tags: dict[str, bytes]) -> None:
    if TAG_MANIFEST not in tags:
        raise BagProblem(f"{TAG_MANIFEST} is missing", TAG_MANIFEST)
    listed = parse_manifest(tags[TAG_MANIFEST], TAG_MANIFEST)
    for path in sorted(listed):
        if path not in tags:
            raise BagProblem(f"{path} is missing (listed in {TAG_MANIFEST})", path)
        if hashlib.sha256(tags[path]).hexdigest() != listed[path]:
            raise BagProblem(f"{path} was altered: its SHA-256 is not the one in {TAG_MANIFEST}", path)
    extra = sorted(n for n in tags if n not in listed and n != TAG_MANIFEST)
    if extra:
        raise BagProblem(f"{extra[0]} was added: it is not in {TAG_MANIFEST}", extra[0])
