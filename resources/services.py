"""The catalogue: who sees what, who may change what, and the rules a resource's settings obey."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, false, insert, or_, select, true
from sqlalchemy.orm import joinedload, lazyload, selectinload

from accounts.models import Institution, Role, User
from accounts.services import find_institution
from app.database import escape_like, utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.zones import is_valid_timezone, to_utc
from resources.features import FEATURES
from resources.hours import validate_opening_hours
from resources.models import Authorization, Block, Kind, Resource, ResourceFeature, Site, Visibility, resource_links
from resources.schemas import ResourceFields, resource_defaults

# Every setting comes from the schema (resources/schemas.py), so a new one is declared once there.
# What a new resource gets for a setting left out (None-valued defaults are the columns' NULL anyway).
DEFAULTS: dict[str, Any] = {name: value for name, value in resource_defaults().items() if value is not None}
# Settings that may be cleared with null: those whose default is None; every other one must keep a value.
NULLABLE = frozenset(name for name, value in resource_defaults().items() if value is None)
# Settings copied onto the row as they are; these four are looked up or stored in other tables.
SIMPLE_FIELDS = tuple(
    name for name in ResourceFields.model_fields if name not in ("institution", "site_id", "linked_to", "features")
)
DORM_CHECK_IN, DORM_CHECK_OUT = "14:00", "11:00"


# --- who may see and change what -------------------------------------------------------------


def visibility_clause(viewer: User | None):
    """SQL condition for the resources `viewer` may see in the catalogue."""
    if viewer is None:
        return (Resource.visibility == Visibility.PUBLIC.value) & Resource.active
    if viewer.role == Role.ADMIN:
        return true()
    managed = (Resource.institution_id == viewer.institution_id) if viewer.role == Role.MANAGER else false()
    seen = or_(
        Resource.visibility.in_([Visibility.PUBLIC.value, Visibility.ALLIANCE.value]),
        Resource.institution_id == viewer.institution_id,
    )
    return or_(seen & Resource.active, managed)


def can_manage(user: User | None, institution_id: int) -> bool:
    return user is not None and user.manages(institution_id)


def is_authorized(user: User, resource: Resource, now: datetime) -> bool:
    """Whether the user may book a resource that needs training: its managers, or a valid authorisation."""
    if not resource.requires_authorization or can_manage(user, resource.institution_id):
        return True
    grant = db.session.scalar(
        select(Authorization).where(Authorization.resource_id == resource.id, Authorization.user_id == user.id)
    )
    return grant is not None and (grant.expires_at is None or grant.expires_at > now)


def managed_clause(user: User | None):
    """SQL condition for the resources `user` may change (active or not)."""
    if user is not None and user.role == Role.ADMIN:
        return true()
    if user is not None and user.role == Role.MANAGER:
        return Resource.institution_id == user.institution_id
    return false()


def require_manager(user: User | None, institution_id: int) -> None:
    if not can_manage(user, institution_id):
        raise PermissionDenied(_l("Only an admin or a manager of the owning institution may do this."))


def managed_resource(actor: User, resource_id: int) -> Resource:
    """A resource the actor may change: 404 if they cannot see it, 403 if they cannot manage it."""
    resource = get_resource(actor, resource_id)
    require_manager(actor, resource.institution_id)
    return resource


def get_resource(viewer: User | None, resource_id: int) -> Resource:
    resource = (
        db.session.scalars(
            # Its features in the same query (the relationship's own selectin would cost a second round trip).
            select(Resource)
            .where(Resource.id == resource_id, visibility_clause(viewer))
            .options(joinedload(Resource.feature_rows))
        )
        .unique()
        .one_or_none()
    )
    if resource is None:
        # Hidden and missing look the same, so ids of private resources do not leak.
        raise NotFound(_l("No resource %(id)s.", id=resource_id))
    return resource


# --- search ------------------------------------------------------------------------------------


def fold(value: str) -> str:
    """Lower case without diacritics, so "stiinte" finds "Științe"."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_text(resource: Resource) -> str:
    parts = [
        resource.name,
        resource.name_en or "",
        resource.description_ro,
        resource.description_en,
        resource.kind,
        resource.institution.code if resource.institution else "",
        resource.site.name if resource.site else "",
    ]
    for code in resource.features:
        parts.extend(FEATURES.get(code, (code, code)))
    return fold(" ".join(parts))


def catalogue_query(
    viewer: User | None,
    *,
    kind: str | None = None,
    institutions: Iterable[str] | None = None,
    q: str | None = None,
    min_capacity: int | None = None,
    feature: str | None = None,
    details: bool = True,
) -> Select:
    """The visible resources matching the filters, in catalogue order (several universities allowed);
    without `details`, their features and links are left unloaded (rows that only name the resource)."""
    query: Select = select(Resource).where(visibility_clause(viewer))
    if kind:
        query = query.where(Resource.kind == kind)
    codes = [code.upper() for code in institutions or [] if code]
    if codes:
        query = query.join(Institution, Resource.institution_id == Institution.id).where(Institution.code.in_(codes))
    if min_capacity is not None:
        query = query.where(Resource.capacity >= min_capacity)
    if feature:
        query = query.where(Resource.feature_rows.any(ResourceFeature.code == feature))
    for term in fold(q or "").split():
        query = query.where(Resource.search_text.like(f"%{escape_like(term)}%", escape="\\"))
    if details:
        # Self-referential links are not eager-loaded by default (no join_depth): one query for all, not one per row.
        query = query.options(selectinload(Resource.linked))
    else:
        query = query.options(lazyload(Resource.linked), lazyload(Resource.feature_rows))
    return query.order_by(Resource.institution_id, Resource.kind, Resource.name, Resource.id)


# --- create and change -------------------------------------------------------------------------


def _institution_by_code(code: str) -> Institution:
    institution = find_institution(code)
    if institution is None:
        raise InvalidInput(
            {"institution": _l("unknown institution %(code)s; use UVT, UPT, UMFT or USVT", code=repr(code))}
        )
    return institution


def _check_fields(values: dict[str, Any], errors: dict[str, str]) -> None:
    for field, value in values.items():
        if (
            value is None
            and field not in NULLABLE
            and field in (*SIMPLE_FIELDS, "institution", "linked_to", "features")
        ):
            errors[field] = _l("may not be null")
    if values.get("kind") is not None and values["kind"] not in {k.value for k in Kind}:
        errors["kind"] = _l("must be one of lab, sports, dorm, equipment, room")
    if values.get("timezone") is not None and not is_valid_timezone(values["timezone"]):
        errors["timezone"] = _l("not a known IANA time zone such as Europe/Bucharest")
    errors.update(validate_opening_hours(values.get("opening_hours")))
    unknown = [code for code in values.get("features") or [] if code not in FEATURES]
    if unknown:
        errors["features"] = _l("unknown feature codes: %(codes)s", codes=", ".join(sorted(set(unknown)))[:200])


def _apply(resource: Resource, values: dict[str, Any], actor: User) -> None:
    errors: dict[str, str] = {}
    _check_fields(values, errors)
    if errors:
        raise InvalidInput(errors)

    if "institution" in values:
        institution = _institution_by_code(values["institution"])
        require_manager(actor, institution.id)
        resource.institution = institution
        resource.institution_id = institution.id
    for field in SIMPLE_FIELDS:
        if field in values:
            setattr(resource, field, values[field])
    if "site_id" in values:
        site = db.session.get(Site, values["site_id"]) if values["site_id"] is not None else None
        if values["site_id"] is not None and (site is None or site.institution_id != resource.institution_id):
            errors["site_id"] = _l("no such site at this resource's institution")
        resource.site = site
    if resource.kind == Kind.DORM:
        resource.check_in_time = resource.check_in_time or DORM_CHECK_IN
        resource.check_out_time = resource.check_out_time or DORM_CHECK_OUT
    if (
        resource.min_duration_minutes is not None
        and resource.max_duration_minutes is not None
        and resource.min_duration_minutes > resource.max_duration_minutes
    ):
        errors["min_duration_minutes"] = _l("must not exceed max_duration_minutes")
    if "features" in values:
        resource.feature_rows = [ResourceFeature(code=code) for code in dict.fromkeys(values["features"])]
    if errors:
        raise InvalidInput(errors)


def _link(resource: Resource, linked_ids: Iterable[int]) -> None:
    ids = list(dict.fromkeys(linked_ids))
    if resource.id in ids:
        raise InvalidInput({"linked_to": _l("a resource cannot be linked to itself")})
    others = list(db.session.scalars(select(Resource).where(Resource.id.in_(ids)))) if ids else []
    missing = set(ids) - {r.id for r in others}
    if missing:
        raise InvalidInput({"linked_to": _l("no resources with ids %(ids)s", ids=sorted(missing))})
    if any(other.institution_id != resource.institution_id for other in others):
        raise InvalidInput({"linked_to": _l("linked resources must belong to the same institution")})
    # Links are symmetric: rewrite both directions of this resource's links.
    db.session.execute(
        delete(resource_links).where(
            or_(resource_links.c.resource_id == resource.id, resource_links.c.linked_id == resource.id)
        )
    )
    rows = [{"resource_id": resource.id, "linked_id": o.id} for o in others]
    rows += [{"resource_id": o.id, "linked_id": resource.id} for o in others]
    if rows:
        db.session.execute(insert(resource_links), rows)
    db.session.expire(resource, ["linked"])
    for other in others:
        db.session.expire(other, ["linked"])


def create_resource(actor: User, values: dict[str, Any]) -> Resource:
    values = {**DEFAULTS, **values}
    for field in ("name", "kind", "institution"):
        if not values.get(field):
            raise InvalidInput({field: _l("is required")})
    resource = Resource()
    _apply(resource, values, actor)
    resource.search_text = ""
    db.session.add(resource)
    db.session.flush()
    if values.get("linked_to"):
        _link(resource, values["linked_to"])
    resource.search_text = search_text(resource)
    db.session.flush()
    return resource


def update_resource(actor: User, resource_id: int, values: dict[str, Any]) -> Resource:
    resource = managed_resource(actor, resource_id)
    with db.session.begin_nested():  # a refused value leaves the resource as it was, not half-changed
        _apply(resource, values, actor)
        if "linked_to" in values:
            _link(resource, values["linked_to"] or [])
        resource.search_text = search_text(resource)
        resource.updated_at = utcnow()
        db.session.flush()
    return resource


# --- sites -------------------------------------------------------------------------------------


def list_sites(institution: str | None = None) -> list[Site]:
    query = select(Site).order_by(Site.institution_id, Site.name)
    if institution:
        query = query.join(Institution, Site.institution_id == Institution.id).where(
            Institution.code == institution.upper()
        )
    return list(db.session.scalars(query))


def create_site(
    actor: User,
    *,
    institution: str,
    name: str,
    address: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
) -> Site:
    owner = _institution_by_code(institution)
    require_manager(actor, owner.id)
    site = Site(institution=owner, name=name, address=address, latitude=latitude, longitude=longitude)
    db.session.add(site)
    db.session.flush()
    return site


# --- blocked periods ---------------------------------------------------------------------------

MAX_BLOCK_DAYS = 5 * 366


def create_block(actor: User, resource_id: int, *, start: datetime, end: datetime, reason: str = "") -> Block:
    resource = managed_resource(actor, resource_id)
    errors: dict[str, str] = {}
    try:
        start_at = to_utc(start, resource.timezone)
    except ValueError as exc:
        errors["start"] = str(exc)
    try:
        end_at = to_utc(end, resource.timezone)
    except ValueError as exc:
        errors["end"] = str(exc)
    if not errors:
        if end_at <= start_at:
            errors["end"] = _l("must be after start")
        elif end_at - start_at > timedelta(days=MAX_BLOCK_DAYS):
            errors["end"] = _l("a block may last at most five years")
    if errors:
        raise InvalidInput(errors)
    block = Block(resource=resource, start_at=start_at, end_at=end_at, reason=reason, created_by=actor)
    db.session.add(block)
    db.session.flush()
    return block


def list_blocks(
    viewer: User | None, resource_id: int, *, start: datetime | None = None, end: datetime | None = None
) -> list[Block]:
    resource = get_resource(viewer, resource_id)
    query = select(Block).where(Block.resource_id == resource.id).order_by(Block.start_at)
    if start is not None:
        query = query.where(Block.end_at > start)
    if end is not None:
        query = query.where(Block.start_at < end)
    return list(db.session.scalars(query))


def delete_block(actor: User, resource_id: int, block_id: int) -> None:
    resource = managed_resource(actor, resource_id)
    block = db.session.get(Block, block_id)
    if block is None or block.resource_id != resource.id:
        raise NotFound(_l("No block %(block)s on resource %(resource)s.", block=block_id, resource=resource_id))
    if block.source != "manual":
        # The next refresh would bring it back: imported busy time goes with its import.
        raise Conflict(_l("Imported busy time is removed with its import, not one by one."))
    db.session.delete(block)
    db.session.flush()


# --- authorisations (training) -----------------------------------------------------------------


def grant_authorization(
    actor: User, resource_id: int, *, email: str, expires_at: datetime | None = None
) -> Authorization:
    resource = managed_resource(actor, resource_id)
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise InvalidInput({"email": _l("no user with this email")})
    grant = db.session.scalar(
        select(Authorization).where(Authorization.resource_id == resource.id, Authorization.user_id == user.id)
    )
    if grant is None:
        grant = Authorization(resource_id=resource.id, user=user)
        db.session.add(grant)
    grant.expires_at = expires_at
    grant.granted_by_id = actor.id
    db.session.flush()
    return grant


def list_authorizations(actor: User, resource_id: int) -> list[Authorization]:
    resource = managed_resource(actor, resource_id)
    return list(
        db.session.scalars(
            select(Authorization).where(Authorization.resource_id == resource.id).order_by(Authorization.id)
        )
    )


def revoke_authorization(actor: User, resource_id: int, authorization_id: int) -> None:
    resource = managed_resource(actor, resource_id)
    grant = db.session.get(Authorization, authorization_id)
    if grant is None or grant.resource_id != resource.id:
        raise NotFound(
            _l("No authorisation %(grant)s on resource %(resource)s.", grant=authorization_id, resource=resource_id)
        )
    db.session.delete(grant)
    db.session.flush()
