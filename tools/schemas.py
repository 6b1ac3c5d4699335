"""The JSON schemas a language model sees for a tool, built from its input model's JSON schema
(as pydantic writes it: ``model_json_schema()``, or a manifest entry's ``parameters``).

Two dialects, both self-contained (every ``$ref`` inlined, no ``title``):

- :func:`portable`: compact, for any OpenAI-compatible server. Every property has one
  ``type`` string (an optional ``X | None`` is offered as ``X``; a union as its first kind,
  ``int | float`` as ``number``), so the reduced schema Ollama keeps (``type``,
  ``description``, ``enum`` per property) still says what to send; descriptions are cut to
  their first sentences (:func:`short`); ``None`` defaults are dropped. The MCP server reuses it.
- :func:`strict`: what OpenAI's structured outputs (``"strict": true``) accept: every object
  has ``additionalProperties: false`` and lists every property in ``required``, an optional
  property takes ``null`` as well, no ``default`` and only the keywords of the supported
  subset. A free-form mapping (``dict[str, float]``: ``system_params``) cannot be strict,
  so it is offered as a list of ``{"name", "value"}`` pairs; :func:`from_strict` turns the
  model's arguments back into what the input model takes (pairs to a mapping, ``null`` for a
  property that has a default dropped).

:func:`function` wraps either into the function-calling entry (``{"type": "function", ...}``).
"""

from __future__ import annotations

import copy
import re
from typing import Any, Literal

Mode = Literal["portable", "strict"]
MODES: tuple[str, ...] = ("portable", "strict")

DESCRIPTION_CHARS = 160  # longest property description offered (portable: first sentences)
STRICT_KEYWORDS = {
    "any": {"type", "description", "enum", "const", "anyOf"},
    "object": {"properties", "required", "additionalProperties"},
    "array": {"items", "minItems", "maxItems"},
    "string": {"pattern", "format"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
}
"""The keywords of OpenAI's strict subset, by the type they apply to ("Supported schemas" in
the Structured Outputs guide); ``integer`` takes the ``number`` ones."""
PORTABLE_DROPPED = {"title", "examples", "$defs", "discriminator"}
PAIR_NOTE = "as a list of {name, value} pairs"
SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bcf)(?<!\bvs)[.;](?= )")


def short(text: str, limit: int) -> str:
    """``text`` cut to the whole sentences that fit in ``limit`` characters (the first
    sentence cut at a word when even that is longer), on one line."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    ends = [m.start() for m in SENTENCE_END.finditer(cut)]
    if ends and ends[-1] > limit // 3:
        return cut[:ends[-1] + 1]
    return cut[:cut.rfind(" ")].rstrip(",;:") + " ..."


def _inline(schema: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    """``schema`` with every ``$ref`` replaced by its definition (ValueError if recursive)."""
    if depth > 32:
        raise ValueError("the input model is recursive; it cannot be offered inline")
    if isinstance(schema, list):
        return [_inline(s, defs, depth + 1) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _inline(v, defs, depth + 1) for k, v in schema.items() if k != "$defs"}
    ref = out.pop("$ref", None)
    if ref is not None:
        target = _inline(defs[ref.rsplit("/", 1)[-1]], defs, depth + 1)
        out = {**target, **out}  # the property's own description wins
    if "allOf" in out and len(out["allOf"]) == 1:
        out = {**out.pop("allOf")[0], **out}
    if "prefixItems" in out:  # a tuple: items of any of its kinds, length fixed by min/max
        kinds = [p for i, p in enumerate(out["prefixItems"]) if p not in out["prefixItems"][:i]]
        out.pop("prefixItems")
        out["items"] = kinds[0] if len(kinds) == 1 else {"anyOf": kinds}
    return out


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``$ref`` inlined (and tuples as arrays of their kinds)."""
    return _inline(schema, schema.get("$defs", {}))


def _is_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null"


def is_mapping(schema: dict[str, Any]) -> bool:
    """A free-form object: no declared properties, any keys (``dict[str, X]``)."""
    return schema.get("type") == "object" and "properties" not in schema


def accepts_null(schema: dict[str, Any]) -> bool:
    """True when ``null`` is a valid value of ``schema``."""
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind) or any(
        _is_null(option) for option in schema.get("anyOf", []))


# -- portable ------------------------------------------------------------------------------
def _portable(schema: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in schema.get("anyOf", []) if not _is_null(o)]
    out = {k: v for k, v in schema.items() if k not in PORTABLE_DROPPED and k != "anyOf"}
    if options:  # one kind: the first, a number rather than an integer when both are taken
        numbers = [o for o in options if o.get("type") == "number"]
        chosen = numbers[0] if numbers and options[0].get("type") == "integer" else options[0]
        out = {**_portable(chosen), **out}
    if "const" in out:
        out.setdefault("enum", [out.pop("const")])
    if "enum" in out and "type" not in out:
        out["type"] = "string" if all(isinstance(v, str) for v in out["enum"]) else "number"
    if out.get("default", 0) is None:
        out.pop("default")
    if "description" in out:
        out["description"] = short(out["description"], DESCRIPTION_CHARS)
    if "properties" in out:
        out["properties"] = {k: _portable(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _portable(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _portable(out["additionalProperties"])
    out.setdefault("type", "string")  # Any: a model can always send text
    return out


def portable(parameters: dict[str, Any]) -> dict[str, Any]:
    """The compact form of an input model's schema: inlined, no titles, a ``type`` on every
    property, short descriptions (see the module docstring)."""
    schema = _portable(inlined(parameters))
    schema.pop("description", None)  # the function's description says it
    schema.setdefault("properties", {})
    return schema


# -- strict --------------------------------------------------------------------------------
def _pairs(schema: dict[str, Any]) -> dict[str, Any]:
    """A free-form mapping as the strict list of ``{name, value}`` pairs."""
    value = schema.get("additionalProperties")
    value = value if isinstance(value, dict) and value else {
        "anyOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}]}
    described = schema.get("description", "")
    return {"type": "array", "description": f"{described} ({PAIR_NOTE})" if described
            else PAIR_NOTE,
            "items": {"type": "object", "properties": {"name": {"type": "string"},
                                                       "value": _strict(value)},
                      "required": ["name", "value"], "additionalProperties": False}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also takes ``null`` (an optional property under strict rules)."""
    if accepts_null(schema):
        return schema
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    kind = schema.get("type")
    out = {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    if is_mapping(schema):
        return _pairs(schema)
    if "anyOf" in schema:
        options = [_strict(o) for o in schema["anyOf"]]
        return {"anyOf": options, **({"description": short(schema["description"],
                                                           DESCRIPTION_CHARS)}
                                     if "description" in schema else {})}
    out = dict(schema)
    if "description" in out:
        out["description"] = short(out["description"], DESCRIPTION_CHARS)
    if "const" in out:
        out["enum"] = [out.pop("const")]
    kind = out.get("type")
    if kind is None:
        out["type"] = "string" if all(isinstance(v, str) for v in out.get("enum", [""])) \
            else "number"
        kind = out["type"]
    kinds = kind if isinstance(kind, list) else [kind]
    allowed = set(STRICT_KEYWORDS["any"])
    for k in kinds:
        allowed |= STRICT_KEYWORDS.get("number" if k == "integer" else k, set())
    out = {k: v for k, v in out.items() if k in allowed}
    if "properties" in out:
        required = set(schema.get("required", []))
        out["properties"] = {k: _strict(v) if k in required else _nullable(_strict(v))
                             for k, v in out["properties"].items()}
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    if isinstance(out.get("items"), dict):
        out["items"] = _strict(out["items"])
    return out


def strict(parameters: dict[str, Any]) -> dict[str, Any]:
    """An input model's schema under OpenAI's strict rules (see the module docstring)."""
    schema = _strict(inlined(parameters))
    schema.pop("description", None)
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    schema["additionalProperties"] = False
    return schema


_DROP = object()


def _restore(value: Any, schema: dict[str, Any]) -> Any:
    if value is None:
        return value
    if is_mapping(schema) and isinstance(value, list):
        return {p["name"]: p["value"] for p in value if isinstance(p, dict) and "name" in p}
    if "properties" in schema and isinstance(value, dict):
        return _restored_object(value, schema)
    if isinstance(schema.get("items"), dict) and isinstance(value, list):
        return [_restore(v, schema["items"]) for v in value]
    for option in schema.get("anyOf", []):
        if is_mapping(option) and isinstance(value, list) or (
                "properties" in option and isinstance(value, dict)):
            return _restore(value, option)
    return value


def _restored_object(value: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    out = {}
    properties, required = schema["properties"], set(schema.get("required", []))
    for key, item in value.items():
        own = properties.get(key, {})
        if item is None and key not in required and not accepts_null(own):
            continue  # "not given" under strict rules: the default applies
        out[key] = _restore(item, own)
    return out


def from_strict(arguments: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Arguments a model sent under :func:`strict` as the input model (of schema
    ``parameters``) takes them: pair lists back to mappings, and ``null`` dropped where the
    property has a default and takes no null."""
    return _restored_object(copy.deepcopy(arguments), inlined(parameters))


# -- the function-calling entry --------------------------------------------------------------
def wire_name(name: str) -> str:
    """The function name a model calls for tool ``name`` (``family.verb`` -> ``family__verb``:
    dots are not allowed in OpenAI function names)."""
    return name.replace(".", "__")


def tool_name(wire: str) -> str:
    """The tool a function name stands for: ``functions.`` prefixes, spaces and case as some
    servers send them are forgiven, ``family__verb`` -> ``family.verb``."""
    plain = re.sub(r"^(functions|tools?)[.:]", "", wire.strip()).strip().lower()
    return plain.replace("__", ".")


def function(name: str, description: str, parameters: dict[str, Any],
             mode: Mode = "portable") -> dict[str, Any]:
    """The function-calling entry for a tool whose input model has the JSON schema
    ``parameters`` (``mode``: portable or strict)."""
    entry: dict[str, Any] = {"name": wire_name(name), "description": description}
    if mode == "strict":
        entry.update(strict=True, parameters=strict(parameters))
    else:
        entry["parameters"] = portable(parameters)
    return {"type": "function", "function": entry}
