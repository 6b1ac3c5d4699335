"""The tool schemas an LLM sees: every strict schema obeys OpenAI's published strict-mode
rules (checked by a validator written here from the rules, not from tools/schemas.py), every
portable property keeps a type through Ollama's reduced schema, strict arguments convert
back to what the tools take, and the default offering stays under its token budget."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from climcopilot.agent.brains.openai.offering import offered, spec_tools
from climcopilot.agent.spec import read_question
from climcopilot.tools import schemas
from climcopilot.tools.registry import get_tool, registry

# OpenAI, "Structured Outputs" guide, section "Supported schemas" (platform.openai.com/docs/
# guides/structured-outputs#supported-schemas): the supported types; the keywords supported
# per type (strings: pattern, format; numbers: multipleOf, maximum, exclusiveMaximum,
# minimum, exclusiveMinimum; arrays: minItems, maxItems); "Root objects must not be anyOf
# and must be an object"; "All fields must be required" (optional ones emulated by a union
# with null); "additionalProperties: false must always be set in objects"; "each nested
# schema [of anyOf] must be a valid JSON Schema per this subset"; up to 5000 object
# properties in total and 10 levels of nesting; at most 120,000 characters of property
# names, definition names, enum and const values; at most 1000 enum values in total.
TYPES = {"string", "number", "boolean", "integer", "object", "array", "null"}
COMMON = {"type", "description", "enum", "const", "anyOf", "$ref", "$defs"}
BY_TYPE = {"string": {"pattern", "format"},
           "number": {"multipleOf", "maximum", "exclusiveMaximum", "minimum",
                      "exclusiveMinimum"},
           "integer": {"multipleOf", "maximum", "exclusiveMaximum", "minimum",
                       "exclusiveMinimum"},
           "array": {"items", "minItems", "maxItems"},
           "object": {"properties", "required", "additionalProperties"}}
FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6",
           "uuid"}


class Budget:
    def __init__(self) -> None:
        self.properties = self.enums = self.chars = 0


def strict_violations(schema: Any, where: str = "$", depth: int = 1,
                      budget: Budget | None = None) -> list[str]:
    """Every way ``schema`` breaks the strict-mode rules, as 'path: what'."""
    root = budget is None
    budget = budget or Budget()
    if not isinstance(schema, dict):
        return [f"{where}: not an object schema"]
    problems = []
    if root and schema.get("type") != "object":
        problems.append(f"{where}: the root must be an object, not anyOf")
    if depth > 10:
        problems.append(f"{where}: nested deeper than 10 levels")
    if "anyOf" in schema:
        return problems + [p for i, option in enumerate(schema["anyOf"]) for p in
                           strict_violations(option, f"{where}.anyOf[{i}]", depth, budget)]
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    if not kinds and "enum" not in schema and "const" not in schema and "$ref" not in schema:
        problems.append(f"{where}: no type")
    problems += [f"{where}: unsupported type {k!r}" for k in kinds if k not in TYPES]
    allowed = COMMON.union(*(BY_TYPE.get(k, set()) for k in kinds))
    problems += [f"{where}: keyword {k!r} is not supported" for k in schema if k not in allowed]
    if schema.get("format") is not None and schema["format"] not in FORMATS:
        problems.append(f"{where}: format {schema['format']!r} is not supported")
    for value in [*schema.get("enum", []), *([schema["const"]] if "const" in schema else [])]:
        budget.chars += len(str(value))
    budget.enums += len(schema.get("enum", []))
    if "object" in kinds:
        properties = schema.get("properties", {})
        budget.properties += len(properties)
        budget.chars += sum(len(k) for k in properties)
        if schema.get("additionalProperties") is not False:
            problems.append(f"{where}: additionalProperties must be false")
        if sorted(schema.get("required", [])) != sorted(properties):
            problems.append(f"{where}: every property must be required")
        for name, sub in properties.items():
            problems += strict_violations(sub, f"{where}.{name}", depth + 1, budget)
    if "array" in kinds:
        if not isinstance(schema.get("items"), dict):
            problems.append(f"{where}: an array needs an items schema")
        else:
            problems += strict_violations(schema["items"], f"{where}[]", depth + 1, budget)
    if root:
        if budget.properties > 5000:
            problems.append(f"{where}: {budget.properties} object properties (at most 5000)")
        if budget.enums > 1000:
            problems.append(f"{where}: {budget.enums} enum values (at most 1000)")
        if budget.chars > 120_000:
            problems.append(f"{where}: {budget.chars} characters of names and values")
    return problems


def old_schema(name: str) -> dict[str, Any]:
    """What the LLM saw before: the raw pydantic schema without its top title."""
    params = get_tool(name).input_model.model_json_schema()
    params.pop("title", None)
    return params


def ollama_reduced(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What Ollama keeps of each property (api.ToolFunction: type, description, enum)."""
    return {name: {"type": p.get("type", ""), "description": p.get("description", ""),
                   "enum": p.get("enum")} for name, p in schema["properties"].items()}


def typed_everywhere(schema: dict[str, Any], where: str = "$") -> list[str]:
    """Properties and items at any depth without a single type string."""
    missing = [] if isinstance(schema.get("type"), str) else [where]
    for name, sub in schema.get("properties", {}).items():
        missing += typed_everywhere(sub, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        missing += typed_everywhere(schema["items"], f"{where}[]")
    return missing


def keywords(schema: dict[str, Any]) -> set[str]:
    """Every keyword used anywhere in ``schema`` (property names are not keywords)."""
    found = set(schema)
    for sub in [*schema.get("properties", {}).values(), *schema.get("anyOf", []),
                *(v for k, v in schema.items() if k in ("items", "additionalProperties")
                  and isinstance(v, dict))]:
        found |= keywords(sub)
    return found


def test_every_strict_schema_obeys_openai_strict_rules_and_the_old_ones_did_not() -> None:
    tools = registry()
    for tool in tools.values():
        entry = tool.openai_schema("strict")["function"]
        assert entry["strict"] is True
        parameters = entry["parameters"]
        Draft202012Validator.check_schema(parameters)
        assert strict_violations(parameters) == [], tool.name
    old = {name: strict_violations(old_schema(name)) for name in tools}
    assert all(old.values())  # the validator bites: no old schema was strict-compatible
    assert any("keyword 'default'" in p for p in old["analysis.lag_correlation"])


def test_portable_schemas_keep_a_type_through_ollamas_reduction() -> None:
    for tool in registry().values():
        parameters = tool.openai_schema()["function"]["parameters"]
        assert typed_everywhere(parameters) == [], tool.name
        assert all(p["type"] for p in ollama_reduced(parameters).values()), tool.name
        assert not {"title", "$defs", "$ref"} & keywords(parameters), tool.name
    emptied = [name for name in registry()
               if any(not p["type"] for p in ollama_reduced(old_schema(name)).values())]
    assert len(emptied) >= 20  # before: 28 tools lost a property's type in Ollama


def test_strict_arguments_come_back_as_the_tool_takes_them() -> None:
    tool = get_tool("da.twin_experiment")
    strict = tool.openai_schema("strict")["function"]["parameters"]
    # What a strict-mode model sends: every property, the unwanted ones null, the mapping as
    # pairs (checked against the strict schema with a standard validator first).
    sent = {name: None for name in strict["properties"]}
    sent.update(method="enkf", N=30, system_params=[{"name": "F", "value": 10.0}])
    Draft202012Validator(strict).validate(sent)
    arguments = schemas.from_strict(sent, tool.input_model.model_json_schema())
    parsed = tool.validate(arguments)
    assert parsed.system_params == {"F": 10.0} and parsed.N == 30 and parsed.method == "enkf"
    assert parsed.Ko == tool.input_model.model_fields["Ko"].default  # null -> its default
    assert "Ko" not in arguments and "dt" in arguments and arguments["dt"] is None


def test_function_names_round_trip_and_prefixes_are_forgiven() -> None:
    for name in registry():
        assert schemas.tool_name(schemas.wire_name(name)) == name
    assert schemas.tool_name("functions.data__open_series") == "data.open_series"
    assert schemas.tool_name(" Data__Open_Series ") == "data.open_series"


QUESTIONS = [
    "What is the correlation between the Southern Oscillation Index and the Niño-3 SST "
    "anomaly?",
    "Which of 3D-Var, EnKF and LETKF gives the lowest analysis error on Lorenz-96?",
    "What is the analysis RMSE of the ETKF with 24 members, inflation 1.013 and random "
    "rotations on Lorenz-96?",
    "Does PCMCI recover the true links of the tigramite tutorial example?",
    "What is the leading Lyapunov exponent of Lorenz-63?",
    "Train a CNN emulator of Lorenz-96 and evaluate its forecast skill",
    "What fraction of the variance of Pacific winter SST anomalies does the first EOF "
    "explain?",
]


@pytest.mark.parametrize("mode", schemas.MODES)
def test_default_offering_is_at_most_6000_tokens(mode: str) -> None:
    bpe = pytest.importorskip("bpe_openai", reason="the tokenizer is a dev extra")
    encoding = bpe.get_encoding("o200k_base")
    everything = offered(list(registry()), mode, "core")[1]  # wants every tool: the cap binds
    assert len(encoding.encode(json.dumps(everything))) <= 6000
    for question in QUESTIONS:
        names, tools = offered(spec_tools(read_question(question)), mode, "core")
        assert len(encoding.encode(json.dumps(tools))) <= 6000, question
        assert set(spec_tools(read_question(question))) <= set(names), question
