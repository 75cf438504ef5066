"""The rating page asks which BerAKHLAK values are below expectations when the behaviour rating is
"below" (issue 15, Deliver 2): seven checkboxes always shown, refused beside the group when none is
chosen, kept on the evaluation and shown with the result, in both languages."""

from __future__ import annotations

import pytest

from tests.plans.support import KASI_A, STAFF_A
from tests.portal.support import text
from tests.portal.test_evaluations import Team, etag_of, no_missing_keys, plain

BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")


@pytest.fixture
def team(stack) -> Team:
    return Team(stack).to_annual()


def test_a_below_behaviour_rating_names_its_values_beside_the_field(team: Team):
    ev = team.evaluation(STAFF_A[0])
    b = team.stack.browser()
    b.login(KASI_A)
    resp = b.get(f"/evaluasi/{ev['id']}/nilai")
    html = text(resp)
    for code in BERAKHLAK:
        assert f'id="f-perilaku_below_values-{code}" name="perilaku_below_values" value="{code}"' in html
    assert "Nilai BerAKHLAK yang di bawah ekspektasi" in plain(resp)
    form = {"etag": etag_of(resp), "rating_hasil": "meets", "rating_perilaku": "below"}
    # below without a value: refused beside the checkbox group, nothing saved
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", form)
    assert resp.status_code == 422
    assert 'id="e-f-perilaku_below_values"' in text(resp) and "Pilih minimal satu nilai BerAKHLAK" in plain(resp)
    assert team.evaluation(STAFF_A[0])["status"] == "open"
    # a code that is no BerAKHLAK value (a tampered form): refused too, the chosen boxes stay ticked
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", {**form, "perilaku_below_values": ["loyal", "jujur"]})
    assert resp.status_code == 422 and "Pilih nilai dari daftar BerAKHLAK" in plain(resp)
    assert 'value="loyal" checked' in text(resp)
    # two values: saved, shown with the result, and on the evaluation
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", {**form, "perilaku_below_values": ["kolaboratif", "loyal"]})
    assert resp.status_code == 200, plain(resp)[:2000]
    assert "Penilaian tersimpan." in plain(resp) and "Nilai di bawah ekspektasi" in plain(resp)
    assert team.evaluation(STAFF_A[0])["perilaku_below_values"] == ["loyal", "kolaboratif"]
    no_missing_keys(resp)
    en = b.get(f"/evaluasi/{ev['id']}/nilai?lang=en")
    assert "BerAKHLAK values below expectations" in plain(en) and "Values below expectations" in plain(en)
    assert 'value="kolaboratif" checked' in text(en) and 'value="akuntabel">' in text(en)
    no_missing_keys(en)
