import json

import pytest

from linkage.errors import SchemaError
from linkage.schema import LinkageSchema, default_schema, json_schema, load_schema


def test_default_schema_round_trips_with_same_fingerprint(tmp_path):
    s = default_schema()
    path = tmp_path / "schema.json"
    path.write_text(s.to_json())
    assert load_schema(path).fingerprint() == s.fingerprint()


def test_fingerprint_ignores_formatting_and_omitted_defaults(tmp_path):
    full = json.loads(default_schema().to_json())
    minimal = {"name": full["name"], "description": full["description"], "fields": full["fields"],
               "blocking_keys": full["blocking_keys"], "hardening": full["hardening"]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(minimal, indent=7))
    assert load_schema(path).fingerprint() == default_schema().fingerprint()


def test_fingerprint_changes_with_any_setting():
    s = default_schema()
    changed = s.model_copy(update={"max_variants": 3})
    assert LinkageSchema.model_validate(changed.model_dump()).fingerprint() != s.fingerprint()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["filter"].update(bits=1000), "multiple of 64"),
        (lambda d: d["fields"][0]["tokeniser"].update(kind="md5"), "tokeniser"),
        (lambda d: d["filter"].update(hash_function="sha1"), "hash_function"),
        (lambda d: d["fields"].append(dict(d["fields"][0])), "unique"),
        (lambda d: d.update(unknown_setting=1), "unknown_setting"),
        (lambda d: d["blocking_keys"][0]["parts"][0].update(field="nope"), "unknown field"),
    ],
)
def test_invalid_schemas_are_refused_with_location(tmp_path, mutate, message):
    d = json.loads(default_schema().to_json())
    mutate(d)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(SchemaError, match=message):
        load_schema(path)


def test_published_json_schema_is_current():
    from importlib.resources import files

    published = json.loads(files("linkage").joinpath("linkage-schema.json").read_text())
    current = json.loads(json.dumps(json_schema(), sort_keys=True))
    assert published == current, "schema model changed: run python -m linkage.schema"
