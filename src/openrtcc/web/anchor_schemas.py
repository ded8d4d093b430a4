"""Response models of the public audit anchors and the hub's public key."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AnchorStatementOut(BaseModel):
    format: str = Field(description="openrtcc-audit-anchor/1")
    deployment: str
    seq: int = Field(description="The audit record the anchor covers: records 1..seq.")
    hash: str = Field(description="That record's hash (SHA-256, hex).")
    count: int = Field(description="How many records the chain held (equal to seq).")
    anchored_at: str = Field(description="UTC, microseconds.")
    key_id: str = Field(description="SHA-256 (hex) of the raw Ed25519 public key that signed it.")


class AnchorDocumentOut(BaseModel):
    """Exactly what anchor_dir/YYYY-MM-DD.json holds: the signature is over the statement's canonical JSON
    (keys sorted, no spaces, ASCII)."""

    format: str
    algorithm: str = Field(description="Ed25519")
    day: str
    statement: AnchorStatementOut
    signature: str = Field(description="Base64 Ed25519 signature.")


class AnchorSummaryOut(BaseModel):
    day: str
    seq: int
    hash: str
    anchored_at: str
    key_id: str
    url: str = Field(description="The signed document of that day.")


class AnchorListOut(BaseModel):
    anchors: list[AnchorSummaryOut]
    public_key_url: str
    public_key_id: str
