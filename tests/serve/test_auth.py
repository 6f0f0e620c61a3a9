"""The bearer token: required on every endpoint but health (and the static page, which holds no
data); checked before the body is read; compared in constant time."""

from __future__ import annotations

import httpx
import pytest
from serve_helpers import running, specs_for

from seqlab.serve import ServeSettings

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def guarded(runs):
    with running(specs_for({"classifier": runs["classifier"]}), ServeSettings(token=TOKEN)) as srv:
        yield srv


def test_api_endpoints_need_the_token(guarded):
    with guarded.client() as client:
        for method, path, body in [
            ("GET", "/models", None),
            ("GET", "/models/classifier", None),
            ("GET", "/stats", None),
            ("GET", "/openapi.json", None),
            ("POST", "/models/classifier/classify", {"text": "the soup"}),
            ("POST", "/models/classifier/encode", {"text": "the soup"}),
            ("POST", "/models/nope/classify", {"text": "the soup"}),
        ]:
            response = client.request(method, path, json=body)
            assert response.status_code == 401, (path, response.text)
            assert response.json()["type"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_token_or_scheme_is_refused(guarded):
    with guarded.client() as client:
        for header in [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer"]:
            response = client.get("/models", headers={"Authorization": header})
            assert response.status_code == 401, header


def test_the_right_token_opens_every_endpoint(guarded):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with guarded.client(headers=headers) as client:
        assert client.get("/models").status_code == 200
        assert (
            client.get("/openapi.json").json()["components"]["securitySchemes"]["bearer"]["scheme"]
            == "bearer"
        )
        paths = client.get("/openapi.json").json()["paths"]
        assert paths["/models/{name}/classify"]["post"]["security"] == [{"bearer": []}]
        assert "security" not in paths["/health/ready"]["get"]
        response = client.post("/models/classifier/classify", json={"text": "the soup was hot"})
        assert response.status_code == 200
        assert response.json()["results"][0]["label"] in {"sport", "food", "weather"}


def test_health_and_the_static_page_need_no_token(guarded):
    with guarded.client() as client:
        assert client.get("/health/live").status_code == 200
        assert client.get("/health/ready").status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/static/app.js").status_code == 200


def test_the_token_is_checked_before_the_body(guarded):
    """Without a token, neither a malformed body nor an oversized one is read: 401 first."""
    with guarded.client() as client:
        response = client.post(
            "/models/classifier/classify", content=b"{broken", headers={"content-type": "application/json"}
        )
        assert response.status_code == 401
        big = b"x" * (ServeSettings().max_body_bytes + 10)
        response = client.post("/models/classifier/classify", content=big)
        assert response.status_code == 401


def test_the_token_can_come_from_the_environment(monkeypatch):
    from seqlab.serve.settings import with_env_token

    monkeypatch.setenv("SEQLAB_TOKEN", TOKEN)
    assert with_env_token(ServeSettings()).token == TOKEN
    assert with_env_token(ServeSettings(token="given-on-cli")).token == "given-on-cli"


def test_a_short_token_is_refused_at_start():
    from seqlab.errors import ConfigError
    from seqlab.serve.settings import validated

    with pytest.raises(ConfigError, match="token"):
        validated(ServeSettings(token="short"))


def test_no_token_configured_means_open_api(server):
    assert httpx.get(server.url + "/models").status_code == 200
