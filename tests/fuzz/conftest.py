"""The world the fuzz suite runs against: all four services in the embedded runner, each on a fresh
PostgreSQL database of its own (so what only PostgreSQL refuses — NUL bytes, integers past 32 bits,
over-long strings — shows as the 500 it would be in production), seeded with the small agency of
tests.plans.support: directory, a quarterly cycle in the first period's supervisor evaluation, approved
cascaded SKPs, a realisation and a daily log, evaluations in reviews, an open survey campaign with answers,
and the notifications those produced. Small ids (1, 2, …) thus often name real objects, so generated
paths reach past the 404."""

from __future__ import annotations

import contextlib
import threading
import uuid

import pytest
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server
from werkzeug.test import Client

from kinerja import registry
from kinerja.embedded import Embedded
from services.common.auth import issue_token
from services.common.bus import Topology
from services.reviews.siasn import SiasnClient, SiasnConfig
from tests.conftest import PG_URL, _need
from tests.plans.support import STAFF_A, FakeClock, Org, Tokens, seed
from tests.reviews.support import Chain
from tests.surveys.support import campaign_body, questionnaire

AGENCY = "PKMB"
EMPLOYEE = STAFF_A[0]  # an employee with an approved SKP, a superior and an evaluation


class World:
    def __init__(self, emb: Embedded, org: Org):
        self.emb, self.org = emb, org
        secret = emb.apps["plans"].extensions["kinerja"].config.jwt_secret
        self.roles = {
            "hr": _bearer(secret, ["hr"], sub=f"hr@{AGENCY.lower()}"),
            "employee": _bearer(secret, ["employee"], nip=EMPLOYEE),
        }

    def app(self, service: str):
        return self.emb.apps[service]


def _bearer(secret: str, roles: list[str], **claims) -> dict:
    return {"Authorization": "Bearer " + issue_token(secret, roles=roles, agency=AGENCY, **claims)}


@pytest.fixture(scope="module")
def world():
    _need("PostgreSQL", "127.0.0.1", 5432)
    from services.common.db import drop_database, ensure_database

    prefix = f"kinerja_fuzz_{uuid.uuid4().hex[:8]}"
    urls = {
        s: make_url(PG_URL).set(database=f"{prefix}_{s}").render_as_string(hide_password=False)
        for s in registry.SERVICES
    }
    with contextlib.ExitStack() as cleanup:
        for url in urls.values():
            ensure_database(url)
            cleanup.callback(drop_database, url)
        # the read-model rebuilds of reviews and notifications fetch the directory over HTTP with the caller's
        # token, as in production: plans answers on a real local port (PLANS_URL, read when the apps are made)
        mounted: dict = {}
        server = make_server("127.0.0.1", 0, lambda environ, start: mounted["wsgi"](environ, start), threaded=True)
        threading.Thread(target=server.serve_forever, name="fuzz-plans", daemon=True).start()
        cleanup.callback(server.shutdown)
        clock = FakeClock()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PLANS_URL", f"http://127.0.0.1:{server.server_port}")
            emb = Embedded(
                env={f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()},
                clock=clock,
                topology=Topology.isolated(f"fz{uuid.uuid4().hex[:8]}."),
                portal=False,
            )
        cleanup.callback(emb.close)
        mounted["wsgi"] = emb.wsgi
        # SIASN answers every push with success, in-process (tests/reviews/test_siasn.py tests the real client)
        emb.apps["reviews"].extensions["siasn_client"] = lambda: SiasnClient(SIASN, http=_siasn_accepts)
        plans = emb.apps["plans"]
        org = Org(plans, Client(emb.wsgi), Tokens(plans.extensions["kinerja"].config.jwt_secret), clock)
        _seed(emb, org)
        yield World(emb, org)


SIASN = SiasnConfig(url="http://siasn.invalid/apisiasn/1.0", gateway_token="gw", sso_token="sso", max_attempts=1)


def _siasn_accepts(url, data, headers, timeout):
    return 200, '{"success": true, "mapData": {"id": "fuzz"}}'


def _seed(emb: Embedded, org: Org) -> None:
    seed(org)
    chain = Chain(emb, org)
    chain.approve_all_plans()
    chain.advance_to("monitoring:1:check_in")
    me = org.as_(EMPLOYEE)
    r = org.post("/daily-logs", me, {"date": "2026-01-05", "activity": "Menyusun laporan", "minutes": 90})
    assert r.status_code in (200, 201), r.get_json()
    chain.realise(EMPLOYEE, 1, [3, 90])
    chain.advance_to("monitoring:1:supervisor_evaluation")
    client = Client(emb.wsgi)
    hr = _bearer(org.tokens.secret, ["hr"], sub="hr@pkmb")
    emb.pump(jobs=False)  # surveys has the directory's units (plans.unit.upserted): a campaign names one
    body = campaign_body(unit_code="SEK-A", unit_name="Seksi Perencanaan")
    r = client.post("/surveys/api/v1/campaigns", json=body, headers=hr)
    assert r.status_code == 201, r.get_data(as_text=True)
    campaign = r.get_json()["id"]
    assert client.post(f"/surveys/api/v1/campaigns/{campaign}/open", headers=hr).status_code == 200
    kiosk = _bearer(org.tokens.secret, ["agency"], sub="kiosk-pkm-01", scope="surveys:responses:write")
    for value in (4, 3):
        r = client.post(f"/surveys/api/v1/campaigns/{campaign}/responses", json=questionnaire(value), headers=kiosk)
        assert r.status_code == 201, r.get_data(as_text=True)
    emb.pump(jobs=False)
