"""The reference scenario (../shared/scenario.md) recorded through the library, by label."""

from __future__ import annotations

from ledger.importer import Item

DESK_ONLY = {"finding": "", "by": ""}


def scenario_items() -> list[Item]:
    """Sources, provenance, claims C1-C3 and the checks, as the scenario tells them."""
    items = [
        Item("source", {"name": "White House memo on Alibaba and the PLA", "type": "leaked-document",
                        "publisher": "The White House", "occurred_at": "2025-11-01",
                        "reliability": {"grade": "F", "reason": "anonymous leak; original not seen"}}, "memo"),
        Item("source", {"name": "Financial Times report on the memo", "type": "news-report",
                        "publisher": "Financial Times",
                        "reliability": {"grade": "B", "reason": "news organisation that saw the memo"}}, "ft"),
        Item("link", {"from": "@ft", "relation": "derived-from", "to": "@memo"}, "ft-memo"),
        Item("source", {"name": "Alibaba statement", "type": "corporate-statement", "publisher": "Alibaba Group",
                        "interest": {"role": "subject", "reason": "the subject of the allegation"}}, "alibaba"),
        Item("source", {"name": "Chinese embassy statement", "type": "government-statement",
                        "publisher": "Embassy of China in Washington",
                        "interest": {"role": "interested-party", "reason": "a government with a stake"}}, "embassy"),
        Item("claim", {"text": "Alibaba helped the PLA conduct cyber operations against the US",
                       "subject": "Alibaba Group", "asserted_by": ["@memo"], "reported_by": ["@ft"]}, "c3"),
        Item("claim", {"text": "Alibaba gave the PLA access to its customer data", "subject": "Alibaba Group",
                       "asserted_by": ["@memo"], "reported_by": ["@ft"], "part_of": "@c3"}, "c1"),
        Item("claim", {"text": "Alibaba shared information about critical software vulnerabilities with the PLA",
                       "subject": "Alibaba Group", "asserted_by": ["@memo"], "reported_by": ["@ft"],
                       "part_of": "@c3"}, "c2"),
    ]
    for claim in ("c1", "c2", "c3"):
        items += [
            Item("assessment", {"target": f"@{claim}", "by": "Financial Times", "source": "@ft", "stance": "unconfirmed",
                                "finding": "reviewed the memo; could not independently confirm the allegations"},
                 f"ft-{claim}"),
            Item("assessment", {"target": f"@{claim}", "by": "Alibaba Group", "source": "@alibaba", "stance": "denies",
                                "finding": "called the allegations complete nonsense"}, f"alibaba-{claim}"),
            Item("assessment", {"target": f"@{claim}", "by": "Chinese embassy", "source": "@embassy", "stance": "denies",
                                "finding": "a complete distortion of facts"}, f"embassy-{claim}"),
        ]
    return items
