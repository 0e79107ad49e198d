"""JSON Schemas (draft 2020-12) of the conformance formats: vector files, the index and the
harness's line protocol; profile modules add the schemas of the records they carry.

Every object schema is closed (``additionalProperties: false``). ``chargechain vectors
generate`` writes them to ``vectors/schemas/``; the harness validates every message an adapter
sends against them, and the tests validate every vector file.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

__all__ = ["DIALECT", "BASE_URI", "core_schemas", "all_schemas", "validator", "open_objects"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Schemas are identified by name under this URI (it is never fetched).
BASE_URI = "https://chargechain.example/schemas/"

_HEX = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
_CODE = {"type": "string", "pattern": "^E_[A-Z0-9_]+$"}


def _closed(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    """An object schema with exactly these properties (the required ones must be present)."""
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False, **extra}


def _test_schema() -> dict[str, Any]:
    """One test of a vector file."""
    return _closed(
        {"tcId": {"type": "integer", "minimum": 1},
         "comment": {"type": "string"},
         "flags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
         "input": {"type": "object"},
         "result": {"enum": ["valid", "invalid"]},
         "output": {"type": "object"},
         "error": _CODE},
        ["tcId", "comment", "flags", "input", "result"],
        oneOf=[{"required": ["output"], "not": {"required": ["error"]}},
               {"required": ["error"], "not": {"required": ["output"]},
                "properties": {"result": {"const": "invalid"}}}],
    )


def vector_file_schema() -> dict[str, Any]:
    """A vector file (Wycheproof's shape)."""
    group = _closed({"operation": {"type": "string", "pattern": "^[a-z0-9_-]+(\\.[a-z0-9_-]+)+$"},
                     "comment": {"type": "string"},
                     "input": {"type": "object"},
                     "tests": {"type": "array", "items": {"$ref": "#/$defs/test"}, "minItems": 1}},
                    ["operation", "comment", "tests"])
    return {
        "$schema": DIALECT, "$id": BASE_URI + "vector-file.schema.json",
        "title": "A ChargeChain conformance vector file",
        **_closed({"formatVersion": {"const": 1},
                   "profile": {"type": "string"}, "name": {"type": "string"},
                   "algorithm": {"type": "string"},
                   "header": {"type": "array", "items": {"type": "string"}},
                   "notes": {"type": "object", "additionalProperties": {"type": "string"}},
                   "numberOfTests": {"type": "integer", "minimum": 1},
                   "testGroups": {"type": "array", "items": {"$ref": "#/$defs/group"},
                                  "minItems": 1}},
                  ["formatVersion", "profile", "name", "algorithm", "header", "notes",
                   "numberOfTests", "testGroups"]),
        "$defs": {"group": group, "test": _test_schema()},
    }


def index_schema() -> dict[str, Any]:
    """vectors/index.json: the profiles, their operations and files with their case counts."""
    file_entry = _closed({"path": {"type": "string"}, "tests": {"type": "integer"},
                          "sm3": {**_HEX, "minLength": 64, "maxLength": 64}},
                         ["path", "tests", "sm3"])
    profile = _closed({"name": {"type": "string"}, "summary": {"type": "string"},
                       "operations": {"type": "array", "items": {"type": "string"}},
                       "files": {"type": "array", "items": file_entry},
                       "tests": {"type": "integer"}},
                      ["name", "summary", "operations", "files", "tests"])
    return {"$schema": DIALECT, "$id": BASE_URI + "index.schema.json",
            "title": "The index of the conformance vectors",
            **_closed({"formatVersion": {"const": 1}, "generator": {"type": "string"},
                       "profiles": {"type": "array", "items": profile},
                       "tests": {"type": "integer"}},
                      ["formatVersion", "generator", "profiles", "tests"])}


def protocol_schemas() -> dict[str, dict[str, Any]]:
    """The harness protocol: one schema per message, harness to adapter and back."""
    implementation = _closed({"name": {"type": "string", "minLength": 1},
                              "language": {"type": "string"},
                              "version": {"type": "string"},
                              "homepage": {"type": "string"}},
                             ["name", "language"])
    case = _closed({"id": {"type": "string"}, "profile": {"type": "string"},
                    "operation": {"type": "string"}, "input": {"type": "object"}},
                   ["id", "profile", "operation", "input"])
    seq = {"type": "integer", "minimum": 0}
    messages = {
        "start-request": _closed({"cmd": {"const": "start"}, "version": {"const": 1}},
                                 ["cmd", "version"]),
        "start-response": _closed({"version": {"const": 1}, "implementation": implementation,
                                   "profiles": {"type": "array", "items": {"type": "string"},
                                                "uniqueItems": True}},
                                  ["version", "implementation", "profiles"]),
        "run-request": _closed({"cmd": {"const": "run"}, "seq": seq, "case": case},
                               ["cmd", "seq", "case"]),
        "run-response": {"oneOf": [
            _closed({"seq": seq, "output": {"type": "object"}}, ["seq", "output"]),
            _closed({"seq": seq, "error": _CODE}, ["seq", "error"]),
            _closed({"seq": seq, "skipped": {"type": "string"}}, ["seq", "skipped"]),
            _closed({"seq": seq, "errored": {"type": "string"}}, ["seq", "errored"]),
        ]},
        "stop-request": _closed({"cmd": {"const": "stop"}}, ["cmd"]),
    }
    return {f"protocol-{name}.schema.json": {"$schema": DIALECT,
                                             "$id": BASE_URI + f"protocol-{name}.schema.json",
                                             "title": f"Harness protocol: {name}", **schema}
            for name, schema in messages.items()}


def core_schemas() -> dict[str, dict[str, Any]]:
    """The schemas of the conformance formats themselves: file name -> schema."""
    return {"vector-file.schema.json": vector_file_schema(),
            "index.schema.json": index_schema(), **protocol_schemas()}


def all_schemas() -> dict[str, dict[str, Any]]:
    """Core schemas plus every module's ``SCHEMAS()`` (records: transactions, blocks, …)."""
    import refimpl.conformance as package

    found = dict(core_schemas())
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        builder = getattr(module, "SCHEMAS", None)
        if builder is None:
            continue
        for name, schema in builder().items():
            if name in found:
                raise ValueError(f"schema {name!r} defined twice")
            found[name] = schema
    return dict(sorted(found.items()))


def validator(name: str, schemas: dict[str, dict[str, Any]] | None = None) -> Any:
    """A jsonschema validator of the named schema, resolving ``$ref`` among our schemas."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = all_schemas() if schemas is None else schemas
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
        if "$id" in schema)
    schema = schemas[name]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


def open_objects(schema: Any, where: str = "$") -> list[str]:
    """The paths of the object schemas inside ``schema`` that name their properties but do not
    forbid others (``additionalProperties`` is not ``false``); every format here is closed."""
    found: list[str] = []
    stack = [(schema, where)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if (node.get("type") == "object" and "properties" in node
                    and node.get("additionalProperties") is not False):
                found.append(path)
            stack.extend((value, f"{path}/{key}") for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{i}]") for i, value in enumerate(node))
    return sorted(found)
