"""Loading the demo catalogue, resources/demo.toml: every entry is checked by the API's own
schemas first, then upserted by natural key, so loading twice changes nothing."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from accounts import services as accounts
from accounts.models import Institution, Role, User
from accounts.schemas import UserCreate
from app.errors import InvalidInput
from app.extensions import db
from app.validation import StrictInput, errors_from_pydantic, text
from resources import services as catalogue
from resources.models import Resource, Site
from resources.schemas import ResourceCreate, SiteCreate

DEMO_FILE = Path(__file__).with_name("demo.toml")
# A resource entry's own cross-references, beside the API's fields: its name in the file, the key
# of its site (the API's site_id) and the keys of the resources it shares space with (linked_to).
FILE_KEYS = ("key", "site", "linked_to")
M = TypeVar("M", bound=BaseModel)


class DemoFileError(Exception):
    """The demo file cannot be loaded; the message names the file, the entry and the field."""


class InstitutionEntry(StrictInput):
    """An institution as the file gives it (the API has no input for these; the columns' limits)."""

    code: text(10, 1)  # type: ignore[valid-type]
    name_ro: text(200, 1)  # type: ignore[valid-type]
    name_en: text(200, 1)  # type: ignore[valid-type]
    short_name: text(20, 1)  # type: ignore[valid-type]
    website: text(200)  # type: ignore[valid-type]
    city: text(100, 1)  # type: ignore[valid-type]


@dataclass(frozen=True)
class ResourceEntry:
    key: str
    site: str | None
    linked_to: list[str]
    settings: ResourceCreate


@dataclass(frozen=True)
class SiteEntry:
    key: str
    site: SiteCreate


@dataclass(frozen=True)
class DemoCatalogue:
    password: str
    institutions: list[InstitutionEntry]
    sites: list[SiteEntry]
    resources: list[ResourceEntry]
    users: list[UserCreate]


def _label(section: str, index: int, entry: Any) -> str:
    """How an error names an entry: its key, else its name or e-mail, else its position."""
    if isinstance(entry, dict):
        for field in ("key", "code", "email", "name"):
            if isinstance(entry.get(field), str):
                return f"{section} {entry[field]!r}"
    return f"{section} #{index + 1}"


def _validate(model: type[M], data: Any, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{e['field'] or '(entry)'}: {e['detail']}" for e in errors_from_pydantic(exc))
        raise DemoFileError(f"{where}: {problems}") from exc


def _table(data: dict, section: str, path: Path) -> list[dict]:
    entries = data.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise DemoFileError(f"{path}: [[{section}]] must be a list of tables")
    return entries


def _unique_keys(entries: Iterable[Any], section: str, path: Path) -> set[str]:
    seen: set[str] = set()
    for entry in entries:
        if entry.key in seen:
            raise DemoFileError(f"{path}: {section} {entry.key!r}: key: used twice")
        seen.add(entry.key)
    return seen


def _resource_entry(raw: dict, where: str) -> ResourceEntry:
    key, site, linked = raw.get("key"), raw.get("site"), raw.get("linked_to", [])
    if not isinstance(key, str) or not key:
        raise DemoFileError(f"{where}: key: a resource needs a key (a name for this file)")
    if site is not None and not isinstance(site, str):
        raise DemoFileError(f"{where}: site: give the key of a site")
    if not isinstance(linked, list) or not all(isinstance(k, str) for k in linked):
        raise DemoFileError(f"{where}: linked_to: give a list of resource keys")
    if "site_id" in raw:
        raise DemoFileError(f'{where}: site_id: name the site by its key, site = "…"')
    settings = {name: value for name, value in raw.items() if name not in FILE_KEYS}
    return ResourceEntry(key, site, linked, _validate(ResourceCreate, settings, where))


def read_catalogue(path: Path | None = None) -> DemoCatalogue:
    """The demo file, every entry validated; raises DemoFileError naming the entry and field."""
    path = path or DEMO_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DemoFileError(f"{path}: {exc}") from exc
    unknown = data.keys() - {"password", "institutions", "sites", "resources", "users"}
    if unknown:
        raise DemoFileError(f"{path}: unknown sections {sorted(unknown)}")
    password = data.get("password")
    if not isinstance(password, str) or len(password) < 8:
        raise DemoFileError(f"{path}: password: give the demo accounts' password (at least 8 characters)")

    institutions = [
        _validate(InstitutionEntry, raw, f"{path}: {_label('institution', i, raw)}")
        for i, raw in enumerate(_table(data, "institutions", path))
    ]
    sites = []
    for i, raw in enumerate(_table(data, "sites", path)):
        where = f"{path}: {_label('site', i, raw)}"
        key = raw.get("key")
        if not isinstance(key, str) or not key:
            raise DemoFileError(f"{where}: key: a site needs a key (a name for this file)")
        sites.append(SiteEntry(key, _validate(SiteCreate, {k: v for k, v in raw.items() if k != "key"}, where)))
    resources = [
        _resource_entry(raw, f"{path}: {_label('resource', i, raw)}")
        for i, raw in enumerate(_table(data, "resources", path))
    ]
    users = [
        _validate(UserCreate, {**raw, "password": password}, f"{path}: {_label('user', i, raw)}")
        for i, raw in enumerate(_table(data, "users", path))
    ]

    codes = {institution.code for institution in institutions}
    for site in sites:
        if site.site.institution not in codes:
            raise DemoFileError(f"{path}: site {site.key!r}: institution: {site.site.institution!r} is not in the file")
    site_keys = _unique_keys(sites, "site", path)
    resource_keys = _unique_keys(resources, "resource", path)
    for entry in resources:
        if entry.settings.institution not in codes:
            raise DemoFileError(
                f"{path}: resource {entry.key!r}: institution: {entry.settings.institution!r} is not in the file"
            )
        if entry.site is not None and entry.site not in site_keys:
            raise DemoFileError(f"{path}: resource {entry.key!r}: site: no site with key {entry.site!r}")
        missing = [key for key in entry.linked_to if key not in resource_keys]
        if missing:
            raise DemoFileError(f"{path}: resource {entry.key!r}: linked_to: no resources with keys {missing}")
    return DemoCatalogue(password, institutions, sites, resources, users)


def _system_user() -> User:
    """The demo runs as an alliance admin that is never stored."""
    return User(role=Role.ADMIN.value, email="system@atu.local", institution_id=0)


def catalogue_is_empty() -> bool:
    return db.session.scalar(select(Resource.id).limit(1)) is None


def upsert_institutions(entries: list[InstitutionEntry]) -> dict[str, Institution]:
    result = {}
    for entry in entries:
        institution = db.session.scalar(select(Institution).where(Institution.code == entry.code))
        if institution is None:
            institution = Institution(code=entry.code)
            db.session.add(institution)
        for field in ("name_ro", "name_en", "short_name", "website", "city"):
            setattr(institution, field, getattr(entry, field))
        result[entry.code] = institution
    db.session.flush()
    return result


def upsert_sites(entries: list[SiteEntry], institutions: dict[str, Institution]) -> dict[str, Site]:
    result = {}
    for entry in entries:
        data = entry.site
        owner = institutions[data.institution]
        site = db.session.scalar(select(Site).where(Site.institution_id == owner.id, Site.name == data.name))
        if site is None:
            site = Site(institution=owner, name=data.name)
            db.session.add(site)
        site.address, site.latitude, site.longitude = data.address, data.latitude, data.longitude
        result[entry.key] = site
    db.session.flush()
    return result


def _changes(resource: Resource, values: dict[str, Any]) -> dict[str, Any]:
    """The values that differ from what is stored, so a second load leaves rows (and updated_at) alone."""

    def stored(name: str) -> Any:
        # Features come back sorted by code; the file may list them in any order.
        return sorted(resource.features) if name == "features" else getattr(resource, name)

    def wanted(name: str, value: Any) -> Any:
        return sorted(set(value)) if name == "features" else value

    return {name: value for name, value in values.items() if stored(name) != wanted(name, value)}


def upsert_resources(
    entries: list[ResourceEntry], institutions: dict[str, Institution], sites: dict[str, Site]
) -> tuple[dict[str, Resource], int]:
    system = _system_user()
    result, created = {}, 0
    for entry in entries:
        # Every setting, the file's or the schema's default, so a reload restores the catalogue.
        values = entry.settings.model_dump(exclude={"linked_to"})
        values["site_id"] = sites[entry.site].id if entry.site else None
        owner = institutions[values["institution"]]
        resource = db.session.scalar(
            select(Resource).where(Resource.institution_id == owner.id, Resource.name == values["name"])
        )
        try:
            if resource is None:
                resource = catalogue.create_resource(system, values)
                created += 1
            else:
                values.pop("institution")
                changes = _changes(resource, values)
                if changes:
                    catalogue.update_resource(system, resource.id, changes)
        except InvalidInput as exc:
            raise DemoFileError(f"resource {entry.key!r}: {exc}") from exc
        result[entry.key] = resource
    for entry in entries:
        resource = result[entry.key]
        linked = [result[key].id for key in entry.linked_to]
        if sorted(linked) != sorted(other.id for other in resource.linked):
            try:
                catalogue.update_resource(system, resource.id, {"linked_to": linked})
            except InvalidInput as exc:
                raise DemoFileError(f"resource {entry.key!r}: {exc}") from exc
    return result, created


def upsert_users(entries: list[UserCreate]) -> int:
    for entry in entries:
        if accounts.find_user_by_email(entry.email) is None:
            optional = entry.model_dump(include={"role", "affiliation", "full_name"}, exclude_none=True)
            accounts.create_user(
                email=entry.email, password=entry.password, institution_code=entry.institution, **optional
            )
    return len(entries)


def load_demo(path: Path | None = None) -> dict[str, int]:
    demo = read_catalogue(path or DEMO_FILE)
    institutions = upsert_institutions(demo.institutions)
    sites = upsert_sites(demo.sites, institutions)
    resources, created = upsert_resources(demo.resources, institutions, sites)
    users = upsert_users(demo.users)
    db.session.flush()
    return {
        "institutions": len(institutions),
        "sites": len(sites),
        "resources": len(resources),
        "created": created,
        "users": users,
    }
