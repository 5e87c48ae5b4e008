"""Loading the demo catalogue: idempotent upserts keyed by natural keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accounts import services as accounts
from accounts.models import Institution, Role, User
from app.extensions import db
from resources import demo_data
from resources import services as catalogue
from resources.models import Resource, Site


def _system_user() -> User:
    """The demo runs as an alliance admin that is never stored."""
    return User(role=Role.ADMIN.value, email="system@atu.local", institution_id=0)


def catalogue_is_empty() -> bool:
    return db.session.scalar(select(Resource.id).limit(1)) is None


def upsert_institutions() -> dict[str, Institution]:
    result = {}
    for data in demo_data.INSTITUTIONS:
        institution = db.session.scalar(select(Institution).where(Institution.code == data["code"]))
        if institution is None:
            institution = Institution(code=data["code"])
            db.session.add(institution)
        for field in ("name_ro", "name_en", "short_name", "website", "city"):
            setattr(institution, field, data[field])
        result[data["code"]] = institution
    db.session.flush()
    return result


def upsert_sites(institutions: dict[str, Institution]) -> dict[str, Site]:
    result = {}
    for data in demo_data.SITES:
        owner = institutions[data["institution"]]
        site = db.session.scalar(select(Site).where(Site.institution_id == owner.id, Site.name == data["name"]))
        if site is None:
            site = Site(institution=owner, name=data["name"])
            db.session.add(site)
        site.address, site.latitude, site.longitude = data["address"], data["latitude"], data["longitude"]
        result[data["key"]] = site
    db.session.flush()
    return result


def _resource_values(data: dict[str, Any], sites: dict[str, Site]) -> dict[str, Any]:
    skip = {"key", "site", "linked_to"}
    values = {k: v for k, v in data.items() if k not in skip}
    values["site_id"] = sites[data["site"]].id if data.get("site") else None
    return values


def upsert_resources(institutions: dict[str, Institution], sites: dict[str, Site]) -> tuple[dict[str, Resource], int]:
    system = _system_user()
    result, created = {}, 0
    for data in demo_data.RESOURCES:
        owner = institutions[data["institution"]]
        resource = db.session.scalar(
            select(Resource).where(Resource.institution_id == owner.id, Resource.name == data["name"])
        )
        values = _resource_values(data, sites)
        if resource is None:
            resource = catalogue.create_resource(system, values)
            created += 1
        else:
            values.pop("institution")
            catalogue.update_resource(system, resource.id, values)
        result[data["key"]] = resource
    for data in demo_data.RESOURCES:
        if data.get("linked_to"):
            catalogue.update_resource(
                system, result[data["key"]].id, {"linked_to": [result[key].id for key in data["linked_to"]]}
            )
    return result, created


def upsert_users() -> int:
    for data in demo_data.USERS:
        if accounts.find_user_by_email(data["email"]) is None:
            accounts.create_user(
                email=data["email"],
                password=demo_data.DEMO_PASSWORD,
                institution_code=data["institution"],
                role=data["role"],
                affiliation=data["affiliation"],
                full_name=data["full_name"],
            )
    return len(demo_data.USERS)


def load_demo() -> dict[str, int]:
    institutions = upsert_institutions()
    sites = upsert_sites(institutions)
    resources, created = upsert_resources(institutions, sites)
    users = upsert_users()
    db.session.flush()
    return {
        "institutions": len(institutions),
        "sites": len(sites),
        "resources": len(resources),
        "created": created,
        "users": users,
    }
