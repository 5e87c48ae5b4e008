"""The demo catalogue: realistic, complete per university, and safe to load twice."""

from collections import Counter

from sqlalchemy import func, select

from accounts.models import User
from accounts.services import authenticate
from app.extensions import db
from resources.demo import load_demo, read_catalogue
from resources.models import Resource, resource_links

MINIMUM = {"lab": 3, "sports": 2, "dorm": 2, "equipment": 3, "room": 2}


def test_demo_load_is_idempotent(runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = (db.session.scalar(select(func.count(Resource.id))), db.session.scalar(select(func.count(User.id))))
    links = db.session.scalar(select(func.count()).select_from(resource_links))
    second = runner.invoke(args=["demo", "load"])
    assert "(0 new)" in second.output
    assert (
        db.session.scalar(select(func.count(Resource.id))),
        db.session.scalar(select(func.count(User.id))),
    ) == counts
    assert db.session.scalar(select(func.count()).select_from(resource_links)) == links
    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "already has resources" in skipped.output


def test_demo_catalogue_shape(app):
    load_demo()
    db.session.commit()
    resources = db.session.scalars(select(Resource)).all()
    assert len(resources) >= 60
    per_institution = Counter((r.institution.code, r.kind) for r in resources)
    for code in ("UVT", "UPT", "UMFT", "USVT"):
        for kind, minimum in MINIMUM.items():
            assert per_institution[(code, kind)] >= minimum, (code, kind)
        ours = [r for r in resources if r.institution.code == code]
        # A hall linked to the courts it splits into, symmetric links.
        halls = [r for r in ours if r.kind == "sports" and len(r.linked) >= 2]
        assert halls, code
        assert all(halls[0] in court.linked for court in halls[0].linked)
        assert any(r.requires_authorization for r in ours if r.kind == "equipment")
        assert all(r.units == r.capacity and r.units >= 1 for r in ours if r.kind == "dorm")
    assert {r.visibility for r in resources} == {"public", "alliance", "institution"}
    assert {r.approval for r in resources} == {"none", "partners", "all"}
    assert all(r.tariffs for r in resources)


def test_demo_accounts_sign_in(app):
    load_demo()
    db.session.commit()
    for code in ("uvt", "upt", "umft", "usvt"):
        for role in ("member", "manager", "admin"):
            user = authenticate(f"{role}.{code}@demo.atu.ro", read_catalogue().password)
            assert user is not None and user.role == role and user.institution.code == code.upper()
