"""Fixtures of the reviews tests: plans and reviews together in the embedded runner (an isolated
in-process bus per test), the small agency of tests.plans.support with approved cascaded SKPs,
and helpers to act in the reviews API."""

from __future__ import annotations

import uuid

import pytest
from werkzeug.test import Client

from kinerja.embedded import Embedded
from services.common.bus import Topology
from tests.plans.support import FakeClock, Org, Tokens, seed
from tests.reviews.support import Chain


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emb(tmp_path, clock):
    e = Embedded(
        env={"KINERJA_VAR": str(tmp_path)},
        clock=clock,
        services=("plans", "reviews"),
        topology=Topology.isolated(f"t{uuid.uuid4().hex[:8]}."),
    )
    yield e
    e.close()


@pytest.fixture
def org(emb, clock) -> Org:
    plans_app = emb.apps["plans"]
    o = Org(plans_app, Client(emb.wsgi), Tokens(plans_app.extensions["kinerja"].config.jwt_secret), clock)
    seed(o)
    return o


@pytest.fixture
def chain(emb, org) -> Chain:
    c = Chain(emb, org)
    c.approve_all_plans()
    return c
