"""Catalogue pages through the test client, in both languages."""

import re

import pytest


def test_search_page_has_what_when_where(client):
    page = client.get("/", headers={"Accept-Language": "en"}).text
    for field in (
        'id="kind"',
        'id="feature"',
        'id="min_capacity"',
        'id="date"',
        'id="start_time"',
        'id="end_time"',
        'name="institutions"',
        'id="nights"',
    ):
        assert field in page
    assert 'role="search"' in page
    assert re.search(r'<label for="min_capacity">', page)


def test_catalogue_filters(client, make_resource):
    make_resource("UMFT", "equipment", name="Citometru", capacity=2, visibility="public")
    make_resource("UMFT", "lab", name="Laborator BSL-2", capacity=12, visibility="public")
    make_resource("UPT", "lab", name="Laborator de robotică", capacity=20, visibility="public")
    make_resource("UPT", "lab", name="Laborator intern", capacity=20, visibility="institution")
    page = client.get("/resources?kind=lab&min_capacity=10", headers={"Accept-Language": "en"}).text
    assert "Laborator BSL-2" in page and "Laborator de robotică" in page
    assert "Citometru" not in page and "Laborator intern" not in page
    assert "2 resources" in page
    only_upt = client.get("/resources?institution=UPT&q=robotica").text
    assert "Laborator de robotică" in only_upt and "Laborator BSL-2" not in only_upt


def test_catalogue_when_filter(client, admin, make_resource):
    make_resource(name="Deschis marțea", visibility="public", opening_hours={"tue": [["08:00", "20:00"]]})
    make_resource(name="Închis marțea", visibility="public", opening_hours={"mon": [["08:00", "20:00"]]})
    page = client.get("/resources?date=2026-12-08&start_time=10:00&end_time=12:00").text
    assert "Deschis marțea" in page and "Închis marțea" not in page


@pytest.mark.parametrize(
    "query",
    [
        "min_capacity=-5",
        "min_capacity=abc",
        "date=2026-12-08&start_time=12:00&end_time=10:00",
        "date=2026-12-08",
        "date=2026-03-29&start_time=03:30&end_time=05:00",
        "kind=spaceship",
    ],
)
def test_bad_filters_explain_on_the_form(client, make_resource, query):
    make_resource(visibility="public")
    response = client.get(f"/resources?{query}", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert 'class="field-error"' in response.text


def test_pagination_links_keep_filters(client, make_resource):
    for n in range(30):
        make_resource("USVT", "dorm", name=f"Camera {n:02d}", visibility="public", units=2, capacity=2)
    page = client.get("/resources?kind=dorm").text
    assert 'rel="next"' in page
    next_link = re.search(r'href="([^"]+)" rel="next"|rel="next" href="([^"]+)"', page)
    href = (next_link.group(1) or next_link.group(2)).replace("&amp;", "&")
    assert "kind=dorm" in href and "page=2" in href
    second = client.get(href).text
    assert "Camera 29" in second and "Camera 00" not in second


def test_resource_page_shows_details(client, make_resource):
    court_a = make_resource("UVT", "sports", name="Teren A", visibility="public")
    hall = make_resource(
        "UVT",
        "sports",
        name="Sala de sport",
        name_en="Sports hall",
        visibility="public",
        capacity=200,
        opening_hours={"mon": [["07:00", "22:00"]]},
        tariffs={"own": 0, "partner": 60, "external": 120},
        features=["changing-rooms"],
        linked_to=[court_a.id],
    )
    en = client.get(f"/resources/{hall.id}", headers={"Accept-Language": "en"}).text
    assert "Sports hall" in en and "07:00–22:00" in en and "60.00 RON" in en and "Teren A" in en
    assert "Changing rooms" in en
    ro = client.get(f"/resources/{hall.id}", headers={"Accept-Language": "ro"}).text
    assert "Sala de sport" in ro and "Vestiare" in ro and '<html lang="ro">' in ro


def test_hidden_resource_page_is_404_in_html(client, make_resource):
    hidden = make_resource(visibility="alliance")
    response = client.get(f"/resources/{hidden.id}", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    assert "This page does not exist" in response.text


def test_resource_page_after_sign_in(client, auth, make_user, make_resource):
    resource = make_resource("UMFT", visibility="alliance", name="Secvențiator")
    auth.login(make_user("UPT").email)
    assert "Secvențiator" in client.get(f"/resources/{resource.id}").text


@pytest.mark.parametrize(
    ("accept", "lang", "text"),
    [
        ("en-US,en;q=0.9", "en", "Catalogue"),
        ("ro-RO,ro;q=0.9,en;q=0.5", "ro", "Catalog"),
        ("de-DE", "ro", "Catalog"),
        (None, "ro", "Catalog"),
    ],
)
def test_language_from_accept_language(client, accept, lang, text):
    headers = {"Accept-Language": accept} if accept else {}
    page = client.get("/resources", headers=headers).text
    assert f'<html lang="{lang}">' in page
    assert f"<h1>{text}</h1>" in page


def test_language_switch_sticks_and_returns(client):
    response = client.get("/language/en?next=/resources?kind=lab", headers={"Accept-Language": "ro"})
    assert response.status_code == 302 and response.headers["Location"] == "/resources?kind=lab"
    assert '<html lang="en">' in client.get("/resources", headers={"Accept-Language": "ro"}).text
    client.get("/language/ro?next=https://evil.example.com")
    assert '<html lang="ro">' in client.get("/", headers={"Accept-Language": "en"}).text
    assert client.get("/language/fr").status_code == 404


def test_error_pages_in_both_languages(client):
    assert "This page does not exist" in client.get("/nowhere", headers={"Accept-Language": "en"}).text
    ro = client.get("/nowhere", headers={"Accept-Language": "ro"})
    assert ro.status_code == 404 and '<html lang="ro">' in ro.text and "This page does not exist" not in ro.text


def test_pages_have_landmarks_and_a_skip_link(client):
    page = client.get("/resources").text
    for marker in (
        '<header class="site-header">',
        '<main id="main"',
        "<footer",
        'class="skip-link" href="#main"',
        "<nav aria-label=",
    ):
        assert marker in page
