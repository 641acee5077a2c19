"""JSON Schemas of the documents the tool reads and writes, generated from the code.

``scenario`` describes the scenario document a user writes (a ``.json`` file, or the JSON form of a
``.toml`` one): the pydantic ``Scenario`` model, widened to what the loader accepts before
validation (campaigns and tabular points as CSV file names, a selection's single value for a list)
and narrowed by the model's own cross-field rules (one measure per pool, a bound per constraint).
``plan``, ``frontier`` and ``report`` describe the results (``optimizer.documents``). ``tradeoff schema KIND``
prints them; the committed copies in ``docs/`` are checked against these in the tests.
"""

from __future__ import annotations

import copy
import json
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from optimizer.documents import FrontierDocument, PlanDocument, ReportDocument, SweepDocument
from optimizer.glossary import OUTCOMES, VOLUMES
from optimizer.plan import SCHEMA_VERSION
from optimizer.scenario.schema import MEASURES, Scenario

KINDS = ("scenario", "plan", "frontier", "report")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind``: ``scenario``, ``plan``, ``frontier`` (or a budget sweep) or ``report``."""
    builders = {"scenario": scenario_schema, "plan": plan_schema, "frontier": frontier_schema,
                "report": report_schema}
    if kind not in builders:
        raise ValueError(f'unknown schema "{kind}": use one of {", ".join(KINDS)}')
    return builders[kind]()


def schema_text(kind: str) -> str:
    """``json_schema(kind)`` as the JSON text committed in ``docs/KIND.schema.json``."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def _published(kind: str, title: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the keys every published schema starts with."""
    body = {k: v for k, v in schema.items() if k not in ("title", "description")}
    return {"$schema": DIALECT, "$id": f"urn:kpi-tradeoff:{kind}:{SCHEMA_VERSION}", "title": title,
            "description": description, **body}


# --- results ---------------------------------------------------------------------------


class _ResultSchema(GenerateJsonSchema):
    """Results as written: any float may be null (NaN and infinity are written so), no defaults
    (every key is written), no per-field titles (the key is the name)."""

    def float_schema(self, schema: core_schema.FloatSchema) -> JsonSchemaValue:
        return {"type": ["number", "null"]}

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        inner = self.generate_inner(schema["schema"])
        if "null" in _types(inner):
            return inner
        options = inner["anyOf"] if set(inner) == {"anyOf"} else [inner]
        return {"anyOf": [*options, {"type": "null"}]}

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def field_is_required(self, field: Any, total: bool) -> bool:
        """A dataclass's fields are all written (``asdict``), defaults too; a TypedDict's as it says."""
        return field["type"] == "dataclass-field" or super().field_is_required(field, total)

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _types(schema: JsonSchemaValue) -> list[str]:
    kind = schema.get("type", [])
    return kind if isinstance(kind, list) else [kind]


def _result_schema(document: Any) -> dict[str, Any]:
    schema = TypeAdapter(document).json_schema(mode="serialization", schema_generator=_ResultSchema)
    _version_const(schema)
    if "FrontierPoint" in schema.get("$defs", {}):
        _point_records(schema["$defs"]["FrontierPoint"])
    return schema


def _version_const(schema: dict[str, Any]) -> None:
    """Every document's ``schema_version`` property, wherever it is, as the constant it is."""
    for node in [schema, *schema.get("$defs", {}).values()]:
        version = node.get("properties", {}).get("schema_version")
        if version is not None:
            version.clear()
            version.update(const=SCHEMA_VERSION, description="Changes only when a key is renamed, removed or "
                           "changes meaning; new keys may be added within a version.")


_RENAMED = ("traded", "primary")
"""``FrontierPoint`` fields a point record writes under the KPIs' own names (``_point_record``)."""


def _point_records(point: dict[str, Any]) -> None:
    """A frontier point as written: the traded and primary values under the KPIs' names, which the
    document gives in ``secondary`` and ``primary``. JSON Schema cannot tie a key to another key's
    value, so the record allows what those names can be (``sov.<pool>`` or a volume KPI), at most two."""
    for name in _RENAMED:
        del point["properties"][name]
        point["required"].remove(name)
    fixed = len(point["properties"])
    dynamic = {"type": ["number", "null"], "description": "The traded or the primary KPI's value at the point, "
               "under its name: the document's `secondary` (e.g. `sov.search`) and `primary` (e.g. `leads`)."}
    for volume in VOLUMES:
        point["properties"].setdefault(volume, dynamic)
    point["patternProperties"] = {r"^sov\.": dynamic}
    point["maxProperties"] = fixed + len(_RENAMED)
    point["description"] += ("\n\nWritten as a record: the keys below, and the traded and primary values under the "
                             "KPIs' own names (when such a name is a key below, as `leads` is, it holds that value).")


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of a plan (``Plan.to_dict()``, ``tradeoff solve --format json``)."""
    return _published("plan", "kpi-tradeoff plan", PlanDocument.__doc__ or "", _result_schema(PlanDocument))


def frontier_schema() -> dict[str, Any]:
    """The JSON Schema of a frontier (``Frontier.to_dict()``) or a budget sweep (``tradeoff frontier --budgets``)."""
    either = Annotated[FrontierDocument | SweepDocument, Field(discriminator="kind")]
    description = (f"One of two documents, told apart by `kind`: {FrontierDocument.__doc__} "
                   f"Or {SweepDocument.__doc__[0].lower()}{SweepDocument.__doc__[1:]}")  # type: ignore[index]
    return _published("frontier", "kpi-tradeoff frontier", description, _result_schema(either))


def report_schema() -> dict[str, Any]:
    """The JSON Schema of a client report (``tradeoff report --json``)."""
    return _published("report", "kpi-tradeoff report", ReportDocument.__doc__ or "", _result_schema(ReportDocument))


# --- the scenario document -----------------------------------------------------------


class _ScenarioSchema(GenerateJsonSchema):
    """The scenario model without per-field titles (the key is the name)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario document, as ``load_scenario`` reads it from a JSON file or stdin."""
    schema = Scenario.model_json_schema(mode="validation", schema_generator=_ScenarioSchema)
    defs = schema["$defs"]
    _files_allowed(schema["properties"], defs["TabularSpec"]["properties"])
    for selection in defs["Where"]["properties"].values():
        _one_or_a_list(selection)
    _shared_outcome(defs)
    _cross_field_rules(defs)
    schema["properties"]["variants"]["description"] = (
        'Named sets of overrides, applied with `--variant NAME`: each a table of dotted keys ("budget.total", '
        '\'campaigns."Search: brand".spend.max\') to their values; a nested table counts as dotted keys.')
    description = (
        f"{Scenario.__doc__} The document a user writes (TOML for people, JSON for programs). This schema checks "
        "each value and key; `tradeoff validate` also checks the scenario as a whole (pools and outcomes that "
        "exist, unique names, bounds that fit together). File names are relative to the scenario's folder "
        "(the current directory for a scenario on stdin).")
    return _published("scenario", "kpi-tradeoff scenario", description, schema)


def _files_allowed(top: dict[str, Any], tabular: dict[str, Any]) -> None:
    """Campaigns and tabular points may name a CSV file instead (the loader reads it in)."""
    top["campaigns"] = {"anyOf": [top["campaigns"], {
        "type": "string", "minLength": 1,
        "description": "A campaign CSV beside the scenario: one row per campaign, its keys flattened by dots "
                       "(spend.max, leads.curve, leads.max) and pools separated by ;"}]}
    tabular["points"] = {"anyOf": [tabular["points"], {
        "type": "string", "minLength": 1,
        "description": "A CSV of spend,value lines beside the scenario (a header line is optional)"}]}


def _one_or_a_list(selection: dict[str, Any]) -> None:
    """A selection key takes one value or a list of them (``_as_tuple`` in the model)."""
    options = selection["anyOf"]
    listed = next(option for option in options if option.get("type") == "array")
    options.insert(0, copy.deepcopy(listed["items"]))


def _shared_outcome(defs: dict[str, Any]) -> None:
    """Every outcome of a campaign takes the same curve-or-rate: one definition, referred to."""
    campaign = defs["Campaign"]["properties"]
    shapes = [next(o for o in campaign[name]["anyOf"] if o.get("type") != "null") for name in OUTCOMES]
    if any(shape != shapes[0] for shape in shapes):
        raise AssertionError("the campaign's outcomes no longer share one schema")
    defs["Outcome"] = {"description": "A response curve (`curve` names the family) or a rate of another outcome "
                                      "of the same campaign (`rate`, `of`).", **shapes[0]}
    for name in OUTCOMES:
        options = campaign[name]["anyOf"]
        options[:] = [{"$ref": "#/$defs/Outcome"} if o.get("type") != "null" else o for o in options]


def _given(*keys: str) -> dict[str, Any]:
    """The keys are present and not null (the model treats null as not given)."""
    return {"required": list(keys), "properties": {key: {"not": {"type": "null"}} for key in keys}}


def _cross_field_rules(defs: dict[str, Any]) -> None:
    """The models' validators that look at two keys at once, stated in JSON Schema."""
    defs["Pool"]["oneOf"] = [_given(measure) for measure in MEASURES]
    defs["ConstraintSpec"]["anyOf"] = [_given("min"), _given("max")]
    defs["ObjectiveSpec"]["not"] = _given("maximize", "minimize")
