"""The cycle collector is paused for a bulk pass and put back as it was, error or not."""

from __future__ import annotations

import gc

import pytest

from ledger import collector
from ledger.importer import Item
from ledger.verify import verify_ledger

from .helpers import small_ranges


@pytest.fixture(params=[True, False], ids=["was-on", "was-off"])
def collector_state(request):
    (gc.enable if request.param else gc.disable)()
    yield request.param
    gc.enable()


def test_paused_restores_the_state_it_found(collector_state):
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled() is collector_state
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("stop")
    assert gc.isenabled() is collector_state


@pytest.mark.parametrize("on_workers", [False, True], ids=["one-process", "workers"])
def test_verify_runs_paused_and_puts_the_collector_back(ledger, signer, collector_state, on_workers):
    ledger.append_many((Item("source", {"name": f"s{i}", "type": "person"}) for i in range(40)), signer=signer)
    with small_ranges(on_workers=on_workers):
        assert verify_ledger(ledger).size == 41
    assert gc.isenabled() is collector_state
