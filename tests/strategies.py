"""Hypothesis strategies for values the schemas admit: bodies of every kind, entries."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import strategies as st

hexhash = st.binary(min_size=32, max_size=32).map(bytes.hex)
# Any unicode but lone surrogates (which JSON text cannot carry as UTF-8).
text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60)
confidential = st.builds(lambda h: {"commitment": h}, hexhash)
maybe_secret = text | confidential
moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))
stamp = moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
when = st.dates(min_value=date(1900, 1, 1)).map(lambda d: d.isoformat()) | stamp
grade = st.sampled_from("ABCDEF")
url = st.from_regex(r"\Ahttps://[a-z]{1,12}\.example/[a-zA-Z0-9/._-]{0,30}\Z")


def optional(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """A dict holding any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


def _merge(required: dict, extra: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    return st.tuples(st.fixed_dictionaries(required), extra).map(lambda p: {**p[0], **p[1]})


source_body = _merge(
    {"name": maybe_secret, "type": st.sampled_from(["leaked-document", "news-report", "person", "dataset"])},
    optional(url=url, sha256=hexhash, occurred_at=when, publisher=maybe_secret, note=maybe_secret,
             reliability=st.fixed_dictionaries({"grade": grade, "reason": text}),
             interest=st.fixed_dictionaries({"role": st.sampled_from(["subject", "interested-party", "independent"])},
                                            optional={"reason": text})),
)
claim_body = _merge(
    {"text": maybe_secret},
    optional(subject=maybe_secret, occurred_at=when, note=text,
             asserted_by=st.lists(hexhash, min_size=1, max_size=3, unique=True),
             reported_by=st.lists(hexhash, min_size=1, max_size=3, unique=True), part_of=hexhash),
)
link_body = _merge(
    {"from": hexhash, "to": hexhash, "relation": st.sampled_from(["derived-from", "quotes", "asserted-by", "part-of"])},
    optional(note=text),
)
assessment_body = _merge(
    {"target": hexhash, "by": maybe_secret, "finding": text,
     "stance": st.sampled_from(["confirms", "unconfirmed", "denies", "refutes"])},
    optional(source=hexhash, reliability=grade, credibility=st.integers(1, 6), occurred_at=when, note=text,
             evidence=st.lists(optional(url=url, sha256=hexhash, description=text).filter(bool), min_size=1, max_size=2)),
)
correction_body = st.one_of(
    _merge({"target": hexhash, "action": st.just("supersede"), "replacement": hexhash, "reason": text}, optional(by=text)),
    _merge({"target": hexhash, "action": st.sampled_from(["withdraw", "retract"]), "reason": text}, optional(by=text)),
)
key_body = st.one_of(
    st.fixed_dictionaries({"action": st.just("add"), "name": st.from_regex(r"\A[a-z][a-z0-9]{0,10}\Z"), "public_key": hexhash}),
    st.fixed_dictionaries({"action": st.just("revoke"), "name": st.just("old"), "key": hexhash}, optional={"reason": text}),
)

BODIES = {
    "source": source_body, "claim": claim_body, "link": link_body,
    "assessment": assessment_body, "correction": correction_body, "key": key_body,
}
bodies = st.sampled_from(sorted(BODIES)).flatmap(lambda kind: st.tuples(st.just(kind), BODIES[kind]))


@st.composite
def entries(draw: st.DrawFn) -> dict:
    """A whole signed entry as the schemas admit it (signature bytes are random)."""
    kind, body = draw(bodies)
    return {
        "v": 1,
        "log": draw(st.from_regex(r"\A[a-z]{1,10}\.example/[a-z0-9]{1,10}\Z")),
        "seq": draw(st.integers(0, 2**53 - 1)),
        "prev": draw(hexhash),
        "recorded_at": draw(stamp),
        "kind": kind,
        "body": body,
        "signer": draw(hexhash),
        "sig": draw(st.binary(min_size=64, max_size=64).map(bytes.hex)),
    }
