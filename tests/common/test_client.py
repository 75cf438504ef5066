"""The one HTTP client of services/common, against a small Flask app called in-process (and a closed
port for a service that is down): problem+json errors become one error type, cursor pages are
walked the way ``services.common.http.paginate`` answers them, and what may pass is retried."""

from __future__ import annotations

import pickle
import socket

import pytest
from flask import Flask, Response, json, request
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.common.client import ApiClient, ApiError, cursor_pages
from services.common.http import paginate


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(20))


def problem(status: int, code: str, detail: str, **extra) -> Response:
    body = {"type": f"https://kinerja.go.id/problems/{code}", "title": "t", "status": status, "detail": detail}
    return Response(json.dumps({**body, "code": code, **extra}), status, mimetype="application/problem+json")


@pytest.fixture
def app():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all(Thing(id=i, name=f"thing {i}") for i in range(1, 8))
        s.commit()
    app = Flask(__name__)
    app.seen = []  # (path, headers) of every request

    @app.before_request
    def _seen():
        app.seen.append((request.full_path, dict(request.headers)))

    @app.get("/api/things")
    def things():
        limit = int(request.args.get("limit", 50))
        with Session(engine) as s:
            page = paginate(s, select(Thing), Thing.id, request.args.get("cursor"), limit)
            return {"items": [{"id": t.id, "name": t.name} for t in page["items"]], "next_cursor": page["next_cursor"]}

    @app.post("/api/things")
    def create():
        return problem(
            422,
            "validation",
            "Periksa isian (check the fields)",
            errors=[
                {"field": "name", "pointer": "#/name", "code": "field.required", "detail": "wajib diisi"},
                {"pointer": "#/tags/0", "code": "field.type", "detail": "bukan teks"},
            ],
        )

    @app.post("/api/flaky")
    def flaky():
        flaky.calls = getattr(flaky, "calls", 0) + 1
        if flaky.calls < 3:
            return problem(503, "db.unavailable", "busy")
        return {"ok": True, "calls": flaky.calls, "key": request.headers.get("Idempotency-Key")}

    @app.get("/api/conflict")
    def conflict():
        return problem(409, "stage.not_allowed", "not now", stage="planning")

    @app.get("/api/html")
    def html():
        return Response("<html>gateway</html>", 404, mimetype="text/html")

    return app


def client(app, **kw) -> ApiClient:
    kw.setdefault("backoff", 0.001)
    return ApiClient("http://api.test", "tok", wsgi=app, **kw)


def test_a_problem_becomes_one_error_with_its_status_type_code_detail_and_field_errors(app):
    with client(app) as c, pytest.raises(ApiError) as err:
        c.post("/api/things", {"name": ""})
    e = err.value
    assert (e.status, e.code, e.detail, e.title) == (422, "validation", "Periksa isian (check the fields)", "t")
    assert e.type == "https://kinerja.go.id/problems/validation" and not e.transient
    assert e.field_errors() == {"name": "wajib diisi", "tags.0": "bukan teks"}
    assert "POST http://api.test/api/things: 422 validation" in str(e)
    again = pickle.loads(pickle.dumps(e))  # Prefect stores a failed task's exception
    assert type(again) is ApiError and again.field_errors() == e.field_errors() and again.body == e.body


def test_a_4xx_is_an_answer_sent_once_and_its_body_is_kept(app):
    with client(app, retries=3) as c, pytest.raises(ApiError) as err:
        c.get("/api/conflict")
    assert c.calls == 1 and err.value.body["stage"] == "planning" and err.value.code == "stage.not_allowed"


def test_an_answer_that_is_not_a_problem_still_is_the_error_type(app):
    with client(app) as c, pytest.raises(ApiError) as err:
        c.get("/api/html")
    e = err.value
    assert (e.status, e.code, e.title, e.detail) == (404, "http.404", "Not Found", "")
    assert "gateway" not in str(e)  # the page is not a message


def test_pages_follow_the_cursor_across_pages_until_it_is_null(app):
    with client(app) as c:
        items = c.all("/api/things", limit=3)
    assert [t["id"] for t in items] == [1, 2, 3, 4, 5, 6, 7]
    asked = [path for path, _ in app.seen]
    assert len(asked) == 3 and asked[0] == "/api/things?limit=3"
    assert all("cursor=" in p for p in asked[1:])


def test_a_query_written_in_the_path_is_kept_and_merged_with_the_parameters(app):
    with client(app) as c:
        assert [t["id"] for t in c.get("/api/things?limit=2")["items"]] == [1, 2]
        assert [t["id"] for t in c.get("/api/things?limit=2", skip=None, flag=True)["items"]] == [1, 2]
    assert [path for path, _ in app.seen] == ["/api/things?limit=2", "/api/things?limit=2&flag=true"]


def test_a_cursor_that_comes_back_is_an_error_not_an_endless_loop():
    pages = iter([{"items": [1], "next_cursor": "a"}, {"items": [2], "next_cursor": "a"}])
    with pytest.raises(ApiError, match="twice") as err:
        list(cursor_pages(lambda cursor: next(pages), what="/x"))
    assert err.value.code == "pagination.loop"


def test_a_transient_failure_is_retried_with_the_same_request_until_it_passes(app):
    with client(app, retries=3) as c:
        assert c.post("/api/flaky", {}, idempotency_key="k-1") == {"ok": True, "calls": 3, "key": "k-1"}
        assert c.calls == 3


def test_without_retries_a_transient_failure_is_raised_at_once(app):
    with client(app) as c, pytest.raises(ApiError) as err:
        c.post("/api/flaky", {})
    assert c.calls == 1 and err.value.status == 503 and err.value.transient


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_a_service_that_is_down_is_retried_then_is_an_error_without_status():
    port = closed_port()
    with ApiClient(f"http://127.0.0.1:{port}", "tok", retries=2, backoff=0.001) as c:
        with pytest.raises(ApiError) as err:
            c.get("/api/things")
    e = err.value
    assert c.calls == 3 and e.status is None and e.code == "service.unreachable" and e.transient
    assert f"no answer from http://127.0.0.1:{port} after 3 attempt(s)" in str(e) and "ConnectError" in str(e)


def test_the_token_language_and_a_token_provider_are_sent_and_the_token_never_shown(app):
    with client(app, language="en") as c:
        c.get("/api/things")
        assert "tok" not in repr(c)
    headers = app.seen[-1][1]
    assert headers["Authorization"] == "Bearer tok" and headers["Accept-Language"] == "en"
    assert "application/problem+json" in headers["Accept"]
    tokens = iter(["first", "second"])
    with ApiClient("http://api.test", lambda: next(tokens), wsgi=app) as c:
        c.get("/api/things")
        c.get("/api/things")
    assert [h["Authorization"] for _, h in app.seen[-2:]] == ["Bearer first", "Bearer second"]


def test_the_three_callers_raise_the_one_error_type_each_with_its_reading_of_no_answer():
    from flows.client import ServiceClient, ServiceError
    from kinerja.http import ApiError as CliError
    from kinerja.http import Client
    from services.portal.client import Api, ApiProblem

    assert ServiceError is ApiError and issubclass(CliError, ApiError) and issubclass(ApiProblem, ApiError)
    url = f"http://127.0.0.1:{closed_port()}"
    with ServiceClient(url, "t", retries=0) as flows, pytest.raises(ServiceError) as err:
        flows.get("/x")
    assert err.value.status is None and err.value.code == "service.unreachable"
    with Api(token="t", base_url=url) as portal, pytest.raises(ApiProblem) as err:
        portal.get("/x")
    assert (err.value.status, err.value.code) == (503, "portal.service_unreachable")  # an error page, like a 5xx
    with Client(url, "t") as cli, pytest.raises(CliError) as err:
        cli.get("/x")
    assert err.value.status is None and f"Tidak dapat terhubung ke {url}/x (cannot connect)" in err.value.message
