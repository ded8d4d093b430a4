"""Every operation of the hub's OpenAPI document as a call a test can make: who makes it, the path ids of
seeded objects, and a body built from the operation's schema. Derived from `app.openapi()`, so operations
added later are covered without editing this file; EXAMPLES holds what a schema cannot say."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from tests.conftest import Session, World
from tests.plate_reads import JPEG, NCIC_LIST, import_list, new_source, post_reads, read_body

MARKER_PLATE = "ABC123"  # on agency A's hot list: a read of it raises an alert
METHODS = ("get", "post", "put", "patch", "delete")
# Last: operations that end or remove what later operations use.
DESTRUCTIVE = re.compile(r"/(revoke|disable|end|logoff|dismiss|discard|stop)$|^delete ")

# Values a field's name calls for (a search's purpose must come from the taxonomy, an offence from NIBRS);
# optional fields with these names are filled in too.
NAMED = {"purpose": "criminal_investigation", "offence": "240", "case_number": "24-0815", "plate": MARKER_PLATE,
         "justification": "A stolen car was seen crossing the whole district.", "note": "Checked with the case officer."}

# What a schema cannot say: bodies that make the operation succeed with the seeded objects.
EXAMPLES: dict[str, dict] = {
    "get /api/auth/banner": {"role": "anonymous"},  # public: shown before log-on
    "get /api/programs": {"role": "anonymous"},  # public: the programmes an owner may join
    "post /api/auth/logon": {"role": "anonymous", "json": lambda s: {"email": s["admin_email"], "password": "wrong",
                                                                     "accept_banner": True}},
    "post /api/auth/logoff": {"role": "spare"},
    "post /api/agency/plates/search": {"role": "analyst"},
    "get /api/agency/alerts/{alert_id}/{kind}": {"path": {"kind": "crop"}},
}


@dataclass
class Seeded:
    """Agency A's objects and the sessions that may act on them."""

    world: World
    sessions: dict[str, Session | None]
    users: dict[str, str | None]
    ids: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


def seed(world: World, slug: str = "lakeport") -> Seeded:
    """An agency with its administrator, an analyst and a spare session, an owner with a camera, a read
    source whose read of a hot-listed plate raised an alert."""
    admin = world.admin(slug)
    analyst = world.staff("analyst", slug)
    owner = world.owner()
    camera = world.camera(owner, slug)
    key, source = new_source(world, slug)
    import_list(world, "stolen", "ncic", NCIC_LIST, slug)
    reads = [read_body(str(uuid.uuid4()), MARKER_PLATE, world.clock.now() - timedelta(minutes=2))]
    assert post_reads(admin.client, key, reads).status_code < 300
    alerts = admin.get("/api/agency/alerts").json()
    sessions = {"admin": admin, "analyst": analyst, "supervisor": world.staff("supervisor", slug), "owner": owner,
                "spare": world.staff("analyst", slug), "anonymous": None}
    users = {name: (s.get("/api/auth/me").json()["id"] if s else None) for name, s in sessions.items()}
    seeded = Seeded(world, sessions, users, values={"admin_email": admin.email, "read_source_key": key})
    seeded.ids.update(camera_id=camera["id"], source_id=source["id"], agency_id=world.agency(slug).id, slug=slug,
                      case_number="24-0815")
    items = alerts if isinstance(alerts, list) else alerts.get("alerts", alerts.get("items", []))
    if items:
        seeded.ids["alert_id"] = items[0]["id"]
    return seeded


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    """(method, path, operation) in the document's order, those that end things last."""
    ops = [(m, p, op) for p, item in spec["paths"].items() for m, op in item.items() if m in METHODS]
    return sorted(ops, key=lambda o: bool(DESTRUCTIVE.search(f"{o[0]} {o[1]}")))


# Agency staff roles in the order a refused call (403 permission_denied) is tried again.
STAFF_ROLES = ("admin", "supervisor", "analyst")


def role_for(method: str, path: str) -> str:
    example = EXAMPLES.get(f"{method} {path}", {})
    if "role" in example:
        return example["role"]
    if path.startswith("/api/owner/") or path.startswith("/api/auth/signup"):
        return "owner" if not path.startswith("/api/auth/signup") else "anonymous"
    if path.startswith(("/api/public/", "/api/edge/", "/api/ingest/")) or re.match(r"/api/integrations/\{[^}]+\}/\{", path):
        return "anonymous"  # public, or authenticated by a device key the call below may carry
    return "admin"


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def instance(schema: dict, spec: dict, name: str = "", depth: int = 0):
    """A small value that satisfies `schema` as far as a schema can say (required fields only)."""
    schema = _resolve(schema, spec)
    if depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("default") is not None:
        return schema["default"]
    if "examples" in schema and schema["examples"]:
        return schema["examples"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, spec).get("type") != "null"]
            return instance(options[0], spec, name, depth + 1) if options else None
    if "allOf" in schema:
        return instance(schema["allOf"][0], spec, name, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        names = [*schema.get("required", []), *(k for k in props if k in NAMED and k not in schema.get("required", []))]
        return {k: instance(props.get(k, {}), spec, k, depth + 1) for k in names}
    if kind == "array":
        count = schema.get("minItems", 0)
        return [instance(schema.get("items", {}), spec, name, depth + 1) for _ in range(count)]
    if kind == "integer":
        value = int(schema.get("minimum", 1))
        return min(value, int(schema["maximum"])) if "maximum" in schema else value
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        return (low + high) / 2 if low is not None and high is not None else float(low if low is not None else 1)
    if kind == "boolean":
        return True if name in ("accept_banner", "public_facing_attested") else False
    return _string(schema, name)


def _string(schema: dict, name: str) -> str:
    fmt = schema.get("format", "")
    if name in NAMED:
        return NAMED[name]
    if fmt == "date-time":
        return "2026-11-20T14:00:00+00:00"
    if fmt == "date":
        return "2026-11-20"
    if fmt == "email" or name == "email":
        return f"someone-{uuid.uuid4().hex[:6]}@example.test"
    if fmt in ("uri", "url") or name.endswith("url"):
        return "https://example.test/hook"
    if fmt == "uuid":
        return str(uuid.uuid4())
    size = max(schema.get("minLength", 1), 1)
    text = "Example-1" if size <= 9 else "Example-1 " + "x" * (size - 10)
    return text[: schema.get("maxLength", len(text))]


@dataclass
class Call:
    method: str
    url: str
    role: str
    kwargs: dict


def call_for(method: str, path: str, op: dict, spec: dict, seeded: Seeded) -> Call:
    key = f"{method} {path}"
    example = EXAMPLES.get(key, {})
    fixed_path = example.get("path", {})
    url, query = path, {}
    for p in op.get("parameters", []):
        schema = _resolve(p.get("schema", {}), spec)
        if p["in"] == "path":
            value = fixed_path.get(p["name"]) or seeded.ids.get(p["name"]) or _path_value(schema, p["name"])
            url = url.replace("{" + p["name"] + "}", str(value))
        elif p["in"] == "query" and p.get("required"):
            query[p["name"]] = instance(schema, spec, p["name"])
    kwargs: dict = {"params": query} if query else {}
    if "json" in example:
        kwargs["json"] = example["json"](seeded.values)
    elif "requestBody" in op:
        kwargs.update(_body(op["requestBody"], spec))
    return Call(method, url, role_for(method, path), kwargs)


def _path_value(schema: dict, name: str):
    if schema.get("type") == "integer":
        return 1
    if schema.get("enum"):
        return schema["enum"][0]
    return uuid.uuid4().hex  # an id nobody has: the operation answers 404, which is audited too


def _body(body: dict, spec: dict) -> dict:
    content = body.get("content", {})
    if "application/json" in content:
        schema = content["application/json"].get("schema", {})
        # A body schema may carry its own `$defs` (referenced as #/$defs/Name) beside the document's components.
        local = {"components": {"schemas": {**spec["components"]["schemas"], **schema.get("$defs", {})}}}
        return {"json": instance(schema, local)}
    for kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        if kind in content:
            schema = _resolve(content[kind].get("schema", {}), spec)
            data, files = {}, {}
            for name in schema.get("required", []):
                prop = _resolve(schema.get("properties", {}).get(name, {}), spec)
                if prop.get("format") == "binary" or prop.get("contentMediaType"):
                    files[name] = ("upload.jpg", JPEG, "image/jpeg")
                else:
                    data[name] = instance(prop, spec, name)
            return {"data": data, **({"files": files} if files else {})}
    return {"content": b"{}", "headers": {"content-type": "application/json"}}


def learn_ids(path: str, response_json, seeded: Seeded) -> None:
    """Remember the id a create answered with, under the path parameter name the detail paths use."""
    if not isinstance(response_json, dict) or not isinstance(response_json.get("id"), str):
        return
    last = [s for s in path.split("/") if s and not s.startswith("{")][-1]
    singular = re.sub(r"ies$", "y", last).rstrip("s").replace("-", "_")
    seeded.ids.setdefault(f"{singular}_id", response_json["id"])
