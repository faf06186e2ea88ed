"""The synthetic load has the proportions of docs/domain.md section 9 and is reproducible from its seed."""

from __future__ import annotations

import io

from loadgen import ProgressBar, generate, summary


def test_proportions_at_a_fixed_seed() -> None:
    items = generate(20_000, seed=9)
    s = summary(items)
    assert s["contacts"] == 20_000
    assert abs(s["advies_share"] - 143_210 / 270_550) < 0.015
    assert abs(s["professional_share"] - 0.92) < 0.01
    assert abs(s["police_share_of_meldingen"] - 85_590 / 127_340) < 0.02
    assert abs(s["west_share"] - 0.54) < 0.015
    assert abs(s["repeat_share"] - 0.28) < 0.02
    assert abs(s["cross_region_share"] - 0.03) < 0.006
    assert abs(s["acute_share"] - 0.10) < 0.01
    assert abs(s["rvdk_per_melding"] - 0.05) < 0.008
    assert abs(s["verwijsindex_per_melding"] - 0.10) < 0.012
    police = [i for i in items if i.police]
    assert police and all(i.professional for i in police)
    bystanders = [i for i in items if i.kind == "melding" and not i.professional]
    assert bystanders and all(not i.request.melding.melder.organisation for i in bystanders)


def test_the_same_seed_gives_the_same_load() -> None:
    first = [(i.kind, i.tenant, i.bsn, i.request.SerializeToString() if i.request else b"")
             for i in generate(500, seed=3)]
    again = [(i.kind, i.tenant, i.bsn, i.request.SerializeToString() if i.request else b"")
             for i in generate(500, seed=3)]
    assert first == again
    assert first != [(i.kind, i.tenant, i.bsn, i.request.SerializeToString() if i.request else b"")
                     for i in generate(500, seed=4)]


def test_a_subset_of_tenants_and_meldingen_only() -> None:
    tenants = ["amsterdam-amstelland", "twente"]
    items = generate(2_000, seed=1, tenants=tenants, meldingen_only=True)
    assert {i.tenant for i in items} == set(tenants)
    s = summary(items)
    assert s["advies_share"] == 0 and abs(s["west_share"] - 0.54) < 0.04


def test_progress_bar() -> None:
    out = io.StringIO()
    bar = ProgressBar(4, "x", stream=out)
    for _ in range(4):
        bar.update()
    bar.close()
    assert "4/4 x" in out.getvalue()
