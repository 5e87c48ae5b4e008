"""resources/demo.toml: each entry is checked by the API's schemas, the database holds what the file
says (the schema's default where the file is silent), and a second load changes nothing."""

import tomllib

import pytest
from sqlalchemy import select

from app.extensions import db
from resources.demo import DEMO_FILE, FILE_KEYS, DemoFileError, load_demo, read_catalogue
from resources.models import Resource
from resources.schemas import ResourceFields, ResourceOut, resource_defaults

RAW = tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))
FIRST = RAW["resources"][0]["key"]


def _file_with(tmp_path, old: str, new: str):
    """A copy of the demo file with one edit inside the first resource's entry."""
    text = DEMO_FILE.read_text(encoding="utf-8")
    start = text.index(f'key = "{FIRST}"')
    end = text.index("[[resources]]", start)
    entry = text[start:end]
    assert old in entry, old
    path = tmp_path / "demo.toml"
    path.write_text(text[:start] + entry.replace(old, new, 1) + text[end:], encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "detail"),
    [
        ('kind = "lab"', 'kind = "lab"\nunits = 0', "units", "greater than or equal to 1"),
        ('kind = "lab"', 'kind = "castle"', "kind", "Input should be"),
        ('kind = "lab"', 'kind = "lab"\ncolour = "red"', "colour", "unknown field"),
        ("max_advance_days = 90", 'max_advance_days = "90"', "max_advance_days", "valid integer"),
        ("tariffs = { own = 0", "tariffs = { own = -1", "tariffs.own", "greater than or equal to 0"),
        ('kind = "lab"', 'kind = "lab"\ncheck_in_time = "25:00"', "check_in_time", "pattern"),
        ('kind = "lab"\n', "", "kind", "Field required"),
        ('site = "uvt-central"', 'site = "nowhere"', "site", "no site with key 'nowhere'"),
        ('institution = "UVT"', 'institution = "XYZ"', "institution", "'XYZ' is not in the file"),
        ('site = "uvt-central"', 'site = "uvt-central"\nlinked_to = ["ghost"]', "linked_to", "'ghost'"),
    ],
)
def test_a_bad_entry_is_refused_with_its_name_and_field(tmp_path, old, new, field, detail):
    path = _file_with(tmp_path, old, new)
    with pytest.raises(DemoFileError) as refused:
        read_catalogue(path)
    message = str(refused.value)
    assert f"resource {FIRST!r}" in message
    assert f"{field}: " in message and detail in message, message
    assert str(path) in message


def test_an_entry_without_key_is_named_by_its_name(tmp_path):
    path = _file_with(tmp_path, f'key = "{FIRST}"\n', "")
    with pytest.raises(DemoFileError, match=rf"resource '{RAW['resources'][0]['name']}': key: "):
        read_catalogue(path)


def test_a_file_that_is_not_toml_names_the_line(tmp_path):
    path = tmp_path / "demo.toml"
    path.write_text('password = "atu-demo-2026"\n[[resources]\n', encoding="utf-8")
    with pytest.raises(DemoFileError, match=r"demo\.toml: .*line 2"):
        read_catalogue(path)


def test_a_misspelt_section_is_refused(tmp_path):
    path = tmp_path / "demo.toml"
    path.write_text(DEMO_FILE.read_text(encoding="utf-8").replace("[[users]]", "[[user]]", 1), encoding="utf-8")
    with pytest.raises(DemoFileError, match=r"unknown sections \['user'\]"):
        read_catalogue(path)


def test_a_bad_account_is_refused_with_its_email(tmp_path):
    text = DEMO_FILE.read_text(encoding="utf-8").replace('role = "member"', 'role = "owner"', 1)
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DemoFileError, match=r"user '[^']+@demo\.atu\.ro': role: "):
        read_catalogue(path)


def test_the_service_rules_name_the_entry_too(app, tmp_path):
    # Feature codes and opening hours are the service's rules, not the schema's: still named.
    path = _file_with(tmp_path, "features = [", 'features = ["no-such-feature", ')
    with pytest.raises(DemoFileError, match=rf"resource '{FIRST}': features: unknown feature codes: no-such-feature"):
        load_demo(path)
    db.session.rollback()


def test_the_command_stops_with_the_message_and_loads_nothing(app, runner, tmp_path, monkeypatch):
    monkeypatch.setattr("resources.demo.DEMO_FILE", _file_with(tmp_path, 'kind = "lab"', 'kind = "lab"\nunits = 0'))
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert f"resource {FIRST!r}: units: Input should be greater than or equal to 1" in result.output
    assert db.session.scalar(select(Resource.id).limit(1)) is None


def test_the_file_leaves_out_the_schema_defaults():
    """Only what differs is written, so a changed default reaches every demo resource."""
    defaults = resource_defaults()
    for entry in RAW["resources"]:
        written_defaults = [name for name, value in entry.items() if name in defaults and value == defaults[name]]
        assert not written_defaults, (entry["key"], written_defaults)


def _stored(resource: Resource, keys: dict[int, str]) -> dict:
    own = ResourceFields.model_fields.keys() - {"site_id", "institution", "linked_to"}
    data = {name: getattr(resource, name) for name in own}
    data.update(institution=resource.institution.code, features=sorted(resource.features))
    data["site"] = resource.site.name if resource.site else None
    data["linked_to"] = sorted(keys[other.id] for other in resource.linked)
    return data


def test_the_database_holds_what_the_file_says(app):
    load_demo()
    db.session.commit()
    demo = read_catalogue()
    sites = {entry.key: entry.site.name for entry in demo.sites}
    by_name = {(r.institution.code, r.name): r for r in db.session.scalars(select(Resource))}
    assert len(by_name) == len(demo.resources) == len(RAW["resources"])
    keys = {by_name[e.settings.institution, e.settings.name].id: e.key for e in demo.resources}
    defaults = resource_defaults()
    for entry, raw in zip(demo.resources, RAW["resources"], strict=True):
        stored = _stored(by_name[entry.settings.institution, entry.settings.name], keys)
        expected = {
            **entry.settings.model_dump(exclude={"site_id"}),
            "features": sorted(entry.settings.features or []),
            "site": sites[entry.site] if entry.site else None,
            "linked_to": sorted(entry.linked_to),
        }
        assert stored == expected, entry.key
        # Round trip: what the file leaves out is the schema's default in the database.
        for name in ResourceFields.model_fields.keys() - raw.keys() - set(FILE_KEYS) - {"site_id"}:
            assert stored[name] == defaults[name], (entry.key, name)


def test_links_are_symmetric_and_as_written(app):
    load_demo()
    db.session.commit()
    demo = read_catalogue()
    ids = {
        e.key: db.session.scalar(select(Resource.id).where(Resource.name == e.settings.name)) for e in demo.resources
    }
    written = {(ids[e.key], ids[other]) for e in demo.resources for other in e.linked_to}
    stored = {(r.id, other.id) for r in db.session.scalars(select(Resource)) for other in r.linked}
    assert written and stored == written | {(b, a) for a, b in written}


def _snapshot() -> list[dict]:
    return [
        ResourceOut.of(r).model_dump(mode="json") for r in db.session.scalars(select(Resource).order_by(Resource.id))
    ]


def test_a_second_load_changes_nothing(app):
    first = load_demo()
    db.session.commit()
    before = _snapshot()
    second = load_demo()
    db.session.commit()
    assert second == {**first, "created": 0}
    # updated_at included: an unchanged resource is not rewritten (its feeds stay unchanged).
    assert _snapshot() == before


def test_a_second_load_restores_a_changed_setting(app):
    load_demo()
    db.session.commit()
    entry = next(e for e in read_catalogue().resources if e.linked_to)
    resource = db.session.scalar(select(Resource).where(Resource.name == entry.settings.name))
    resource.units, resource.linked = entry.settings.units + 1, []
    db.session.commit()
    load_demo()
    db.session.commit()
    assert resource.units == entry.settings.units
    assert resource.linked and {other.name for other in resource.linked} == {
        e.settings.name for e in read_catalogue().resources if e.key in entry.linked_to
    }
