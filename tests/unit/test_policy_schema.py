"""chalicelib/policies/schema.json is the model's export: editors validate policy files with it, so a model change that
is not re-exported fails here. Re-export with `python -m chalicelib.rules.policy`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema  # comes with cfn-lint (dev); only this test needs it
import pytest
import yaml

from chalicelib.policies import POLICY_DIR
from chalicelib.rules.policy import SCHEMA_PATH, export_schema, schema_json


def test_committed_schema_is_the_export() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_json(), "run: python -m chalicelib.rules.policy"


def test_schema_is_a_valid_json_schema() -> None:
    schema = export_schema()

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["rules"]["items"]["discriminator"]["propertyName"] == "kind"


def _as_json(value: object) -> object:
    # What an editor's YAML plugin hands the schema: dates and times as strings.
    return json.loads(json.dumps(value, default=lambda v: float(v) if isinstance(v, Decimal) else str(v)))


@pytest.mark.parametrize("path", sorted(POLICY_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_schema_accepts_the_shipped_policies(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator(export_schema()).validate(_as_json(document))


def test_schema_accepts_action_shorthands_and_rejects_nonsense() -> None:
    validator = jsonschema.Draft202012Validator(export_schema())
    rule = {"id": "a", "kind": "manual", "clause": "1.4.5", "amount": 50}
    policy = {"schema_version": 1, "id": "x", "version": "1", "rules": [rule]}

    for actions in (["fine"], [{"fine": 50}], [{"warn": "serious"}], [{"at": 1, "do": ["remind"]}]):
        rule["actions"] = actions
        validator.validate(policy)
    rule["actions"] = ["wran"]
    assert not validator.is_valid(policy)
