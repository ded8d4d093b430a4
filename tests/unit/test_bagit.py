"""BagIt (RFC 8493) rules, pure: manifests and bag-info written and read back, hostile manifests refused, and a
bag in memory checked file by file (the first problem named)."""

from __future__ import annotations

import hashlib
import io

import pytest

from openrtcc.domain.bagit import (
    BAGIT_DECLARATION,
    BagProblem,
    bag_info_text,
    check_bag,
    manifest_text,
    parse_bag_info,
    parse_manifest,
    payload_oxum,
)

H = hashlib.sha256(b"x").hexdigest()


class MemoryBag:
    def __init__(self, files: dict[str, bytes]):
        self.files = files

    def names(self) -> list[str]:
        return list(self.files)

    def open(self, path: str):
        return io.BytesIO(self.files[path])


def bag(payload: dict[str, bytes], **extra_info) -> dict[str, bytes]:
    files = {f"data/{k}": v for k, v in payload.items()}
    manifest = manifest_text((p, hashlib.sha256(v).hexdigest()) for p, v in files.items())
    info = bag_info_text([("External-Identifier", "24-5001"),
                          ("Payload-Oxum", payload_oxum(len(v) for v in files.values())), *extra_info.items()])
    tags = {"bagit.txt": BAGIT_DECLARATION, "bag-info.txt": info, "manifest-sha256.txt": manifest}
    tags["tagmanifest-sha256.txt"] = manifest_text((p, hashlib.sha256(v).hexdigest()) for p, v in tags.items())
    return {**files, **tags}


def test_manifests_round_trip_sorted_with_awkward_names_percent_encoded():
    text = manifest_text([("data/b.txt", H), ("data/a%1\nx.txt", H)])
    assert text.decode().splitlines() == [f"{H}  data/a%251%0Ax.txt", f"{H}  data/b.txt"]
    assert parse_manifest(text, "m") == {"data/a%1\nx.txt": H, "data/b.txt": H}
    assert parse_manifest(f"{H.upper()}\tdata/c\n".encode(), "m") == {"data/c": H}  # any white space, any case


@pytest.mark.parametrize("line, problem", [
    ("nothex  data/a", "line 1 is not `sha256 path`"),
    (f"{H}", "line 1 is not `sha256 path`"),
    (f"{H}  /etc/passwd", "unsafe path"),
    (f"{H}  data/../../etc/passwd", "unsafe path"),
    (f"{H}  data//a", "unsafe path"),
    (f"{H}  data\\a", "unsafe path"),
    (f"{H}  data/a\n{H}  data/a", "lists data/a twice"),
])
def test_hostile_manifests_are_refused(line, problem):
    with pytest.raises(BagProblem, match=problem.replace("(", r"\(")):
        parse_manifest(line.encode(), "m")


def test_bag_info_values_stay_on_one_line_and_continuations_are_read():
    text = bag_info_text([("External-Description", "robbery\nPayload-Oxum: 1.1\r\tx")])
    assert text == b"External-Description: robbery Payload-Oxum: 1.1 x\n"  # no forged label
    assert parse_bag_info(b"Source-Organization: Lakeport\n  Police\nBagging-Date: 2026-11-20\n") == [
        ("Source-Organization", "Lakeport Police"), ("Bagging-Date", "2026-11-20")]
    with pytest.raises(ValueError):
        bag_info_text([("Bad Label", "x")])
    with pytest.raises(BagProblem, match="not `Label: value`"):
        parse_bag_info(b"no colon here\n")


def test_a_sound_bag_checks_and_each_kind_of_damage_is_named_first_by_path():
    files = bag({"clips/a.mp4": b"aaaa", "clips/b.mp4": b"bbbb"})
    contents = check_bag(MemoryBag(files))
    assert sorted(contents.payload) == ["data/clips/a.mp4", "data/clips/b.mp4"]
    for change, problem in [
        (lambda f: f.update({"data/clips/b.mp4": b"BBBB"}), "data/clips/b.mp4 was altered"),
        (lambda f: f.pop("data/clips/a.mp4"), "data/clips/a.mp4 is missing"),
        (lambda f: f.update({"data/clips/c.mp4": b"c"}), "data/clips/c.mp4 was added"),
        (lambda f: f.pop("bagit.txt"), "bagit.txt is missing"),
        (lambda f: f.update({"bagit.txt": b"BagIt-Version: 0.97\n"}), "does not declare BagIt version 1.x"),
        (lambda f: f.update({"bag-info.txt": b"Payload-Oxum: 9.2\n"}), "Payload-Oxum 9.2"),
        (lambda f: f.update({"extra.txt": b"x"}), "extra.txt was added: it is not in tagmanifest"),
        (lambda f: f.pop("tagmanifest-sha256.txt"), "tagmanifest-sha256.txt is missing"),
    ]:
        damaged = dict(files)
        change(damaged)
        with pytest.raises(BagProblem, match=problem):
            check_bag(MemoryBag(damaged))


def test_a_manifest_entry_outside_data_is_refused():
    files = bag({"a": b"a"})
    files["manifest-sha256.txt"] += f"{hashlib.sha256(b'x').hexdigest()}  bagit.txt\n".encode()
    with pytest.raises(BagProblem, match="outside data/"):
        check_bag(MemoryBag(files))
