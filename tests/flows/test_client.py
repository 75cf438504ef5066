"""The flows' HTTP client: bounded retries on what may pass (connection errors, 5xx), none on
answers (4xx), problem+json errors as ServiceError, cursor pages, and a cap on requests in flight."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from flows.client import ServiceClient, ServiceError


def problem(status: int, code: str, **extra) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"Content-Type": "application/problem+json"},
        json={
            "type": f"https://kinerja.go.id/problems/{code}",
            "title": "t",
            "status": status,
            "detail": f"detail of {code}",
            "code": code,
            **extra,
        },
    )


def client(handler, **kw) -> ServiceClient:
    kw.setdefault("backoff", 0.01)
    return ServiceClient("http://svc.test", "tok", transport=httpx.MockTransport(handler), **kw)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_a_5xx_is_retried_with_backoff_until_it_succeeds():
    seen = []

    def handler(request):
        seen.append(request)
        return problem(503, "db.unavailable") if len(seen) < 3 else httpx.Response(200, json={"ok": True})

    c = client(handler, retries=3)
    assert c.get("/plans/api/v1/cycles/1") == {"ok": True}
    assert len(seen) == 3
    assert seen[0].headers["Authorization"] == "Bearer tok"


def test_a_4xx_is_an_answer_not_retried_and_raised_with_its_problem():
    seen = []

    def handler(request):
        seen.append(request)
        return problem(409, "cycle.not_expected", stage="monitoring:1:check_in", expected="planning")

    with pytest.raises(ServiceError) as err:
        client(handler, retries=3).post("/plans/api/v1/cycles/1/advance", {"expected": "planning"})
    assert len(seen) == 1
    e = err.value
    assert (e.status, e.code, e.detail) == (409, "cycle.not_expected", "detail of cycle.not_expected")
    assert e.body["stage"] == "monitoring:1:check_in" and not e.transient
    assert "POST http://svc.test/plans/api/v1/cycles/1/advance" in str(e)


def test_retries_are_bounded_and_the_last_5xx_is_raised():
    seen = []

    def handler(request):
        seen.append(request)
        return problem(502, "gateway.bad")

    with pytest.raises(ServiceError) as err:
        client(handler, retries=2).get("/x")
    assert len(seen) == 3 and err.value.status == 502 and err.value.transient


def test_a_service_that_is_down_is_retried_then_fails_clearly():
    port = closed_port()
    c = ServiceClient(f"http://127.0.0.1:{port}", "tok", retries=3, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(ServiceError) as err:
        c.get("/plans/api/v1/cycles/1")
    assert c.calls == 4
    e = err.value
    assert e.status is None and e.code == "service.unreachable" and e.transient
    assert f"no answer from http://127.0.0.1:{port} after 4 attempt(s)" in str(e)
    assert "ConnectError" in str(e)
    assert time.monotonic() - started < 5


def test_a_non_problem_error_body_still_becomes_a_service_error():
    c = client(lambda r: httpx.Response(404, text="<html>nope</html>"), retries=0)
    with pytest.raises(ServiceError) as err:
        c.get("/nowhere")
    assert err.value.code == "http.404" and "nope" in err.value.detail


def test_pages_follow_the_cursor_until_it_is_null():
    pages = {
        None: {"items": [1, 2], "next_cursor": "a"},
        "a": {"items": [3], "next_cursor": "b"},
        "b": {"items": [], "next_cursor": None},
    }
    asked = []

    def handler(request):
        cursor = request.url.params.get("cursor")
        asked.append((request.url.params.get("limit"), request.url.params.get("cycle_id"), cursor))
        return httpx.Response(200, json=pages[cursor])

    assert client(handler).all("/plans/api/v1/plans", cycle_id=7) == [1, 2, 3]
    assert asked == [("200", "7", None), ("200", "7", "a"), ("200", "7", "b")]


def test_a_cursor_that_comes_back_is_an_error_not_an_endless_loop():
    c = client(lambda r: httpx.Response(200, json={"items": [1], "next_cursor": "same"}))
    with pytest.raises(ServiceError, match="twice"):
        c.all("/x")


def test_requests_in_flight_never_exceed_the_concurrency_limit():
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def handler(request):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.03)
        with lock:
            state["now"] -= 1
        return httpx.Response(200, json={})

    c = client(handler, max_concurrency=2)
    threads = [threading.Thread(target=c.get, args=("/x",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["max"] == 2


def test_the_token_never_shows_in_its_repr_or_in_an_error():
    c = client(lambda r: problem(403, "auth.forbidden"), retries=0)
    assert "tok" not in repr(c)
    with pytest.raises(ServiceError) as err:
        c.get("/x")
    assert "tok" not in str(err.value)


def test_a_registered_transport_carries_every_client_of_its_base_url_until_it_is_forgotten():
    """The demo runs the flows in-process: clients of the registered base URL go through the
    transport (no server), closing one client leaves it usable for the next, other base URLs and
    an unregistered one talk real HTTP."""
    from flows.client import register_transport

    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    seen = []
    register_transport(
        base + "/",
        httpx.MockTransport(lambda r: seen.append(r.url.path) or httpx.Response(200, json={"via": "transport"})),
    )
    try:
        with ServiceClient(base, "tok") as first:
            assert first.get("/plans/api/v1/cycles/1") == {"via": "transport"}
        with ServiceClient(base, "tok") as second:  # the first one's close did not close the transport
            assert second.get("/plans/api/v1/cycles/2") == {"via": "transport"}
        assert seen == ["/plans/api/v1/cycles/1", "/plans/api/v1/cycles/2"]
    finally:
        register_transport(base, None)
    with ServiceClient(base, "tok", retries=0) as plain:  # forgotten: real HTTP to a closed port
        with pytest.raises(ServiceError) as err:
            plain.get("/plans/api/v1/cycles/1")
    assert err.value.status is None and seen == ["/plans/api/v1/cycles/1", "/plans/api/v1/cycles/2"]
