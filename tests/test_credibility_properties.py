"""Properties of derived status: order independence, and derived sources add nothing."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings, strategies as st

from ledger.credibility import claim_status
from ledger.facts import gather
from ledger.importer import Item
from ledger.keys import KeyStore
from ledger.store import Ledger

RANK = {"refuted": 0, "retracted": 0, "contested": 1, "reported": 2, "unverified": 2, "corroborated": 3, "confirmed": 4}
_DBS = itertools.count()


def fresh(tmp_path):
    store = KeyStore(tmp_path / "keys")
    signer = store.load("k", b"pw") if store.exists("k") else store.create("k", b"pw")
    led = Ledger.create(str(tmp_path / f"p{next(_DBS)}.db"), origin="prop.example/log", signer=signer)
    return led, signer


# A "fact group" is one independent line of support or one opposing voice: a source,
# maybe an independence record, and what it says about the claim.
group = st.fixed_dictionaries({
    "grade": st.sampled_from("ABCDEF"),
    "independent": st.booleans(),
    "stance": st.sampled_from(["corroborates", "confirms", "denies", "disputes", "refutes", "unconfirmed"]),
    "direct": st.booleans(),
    "interest": st.sampled_from([None, "subject", "interested-party"]),
    "derives_from": st.one_of(st.none(), st.integers(0, 5)),
})


def items_for(groups: list[dict], order: list[int]) -> list[Item]:
    """The claim first, then each group's entries, groups in ``order``."""
    items = [
        Item("source", {"name": "origin", "type": "leaked-document",
                        "reliability": {"grade": "F", "reason": "anonymous"}}, "root"),
        Item("claim", {"text": "the claim", "asserted_by": ["@root"]}, "claim"),
    ]
    for n in order:
        g = groups[n]
        body = {"name": f"source {n}", "type": "news-report", "reliability": {"grade": g["grade"], "reason": "test"}}
        if g["interest"]:
            body["interest"] = {"role": g["interest"]}
        items.append(Item("source", body, f"s{n}"))
        if g["derives_from"] is not None:
            items.append(Item("link", {"from": f"@s{n}", "relation": "derived-from", "to": "@root"}))
        if g["independent"]:
            items.append(Item("assessment", {"target": f"@s{n}", "by": "desk", "stance": "independent", "finding": "own work"}))
        assessment = {"target": "@claim", "by": f"voice {n}", "source": f"@s{n}", "stance": g["stance"], "finding": "said so"}
        if g["direct"]:
            assessment["access"] = "direct"
        items.append(Item("assessment", assessment))
    return items


def final_status(tmp_path, groups, order):
    led, signer = fresh(tmp_path)
    labels: dict[str, str] = {}
    led.append_many(items_for(groups, order), signer=signer, labels=labels)
    claim = led.resolve(labels["claim"]).seq
    result = claim_status(gather(led, claim), claim)
    led.close()
    return result


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=st.lists(group, min_size=1, max_size=4), data=st.data())
def test_status_does_not_depend_on_the_order_of_independent_facts(tmp_path, groups, data):
    order = data.draw(st.permutations(list(range(len(groups)))))
    a = final_status(tmp_path, groups, list(range(len(groups))))
    b = final_status(tmp_path, groups, list(order))
    assert (a.status, a.credibility, a.independent_lines, sorted(a.flags)) == \
           (b.status, b.credibility, b.independent_lines, sorted(b.flags))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=st.lists(group, min_size=1, max_size=4), data=st.data())
def test_a_source_derived_from_an_existing_one_never_raises_status(tmp_path, groups, data):
    led, signer = fresh(tmp_path)
    labels: dict[str, str] = {}
    led.append_many(items_for(groups, list(range(len(groups)))), signer=signer, labels=labels)
    claim = led.resolve(labels["claim"]).seq
    before = claim_status(gather(led, claim), claim)
    upstream = data.draw(st.sampled_from(["root", *(f"s{n}" for n in range(len(groups)))]))
    stance = data.draw(st.sampled_from(["corroborates", "confirms", "unconfirmed"]))
    led.append_many([
        Item("source", {"name": "echo", "type": "news-report", "reliability": {"grade": "A", "reason": "big outlet"}}, "echo"),
        Item("link", {"from": "@echo", "relation": "republishes", "to": f"@{upstream}"}),
        Item("assessment", {"target": "@claim", "by": "echo", "source": "@echo", "stance": stance,
                            "finding": "repeats it", "access": "direct"}),
        Item("link", {"from": "@claim", "relation": "reported-by", "to": "@echo"}),
    ], signer=signer, labels=labels)
    after = claim_status(gather(led, claim), claim)
    led.close()
    assert RANK[after.status] <= RANK[before.status] or (before.status, after.status) == ("reported", "unverified")
    assert after.independent_lines <= before.independent_lines or before.independent_lines == 0
