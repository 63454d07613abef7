"""The monthly estimate of `capacity STACK` against a hand calculation from the price table."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from archivist_infra.__main__ import main
from archivist_infra.capacity import cost, prices
from archivist_infra.capacity.figures import GI, NodeBounds
from archivist_infra.capacity.report import capacity_text
from archivist_infra.capacity.sizing import stack_capacity
from archivist_infra.offline.stackfile import read_stack
from archivist_infra.platforms import aks, gke
from archivist_infra.program import read_raw_config_and_settings
from tests.conftest import ROOT
from tests.platforms.conftest import reader

H = prices.HOURS_PER_MONTH


def _line(estimate: cost.CostEstimate, start: str) -> cost.CostLine:
    (line,) = [x for x in estimate.lines if x.item.startswith(start)]
    return line


def _gke(**extra: object) -> gke.GkeSettings:
    r = reader({"project": "archivist-prod", "region": "europe-west1",
                "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}, **extra})
    parsed = gke.parse(r)
    assert not r.problems, r.problems.items
    return parsed


def _capacity(bounds: NodeBounds) -> cost.Capacity:
    from archivist_infra.capacity.figures import Capacity, Range

    zero = Range(Decimal(0), Decimal(0))
    return Capacity(cpu=zero, memory=zero, storage_requested=zero, storage_billed=zero, storage_metered=zero,
                    nodes=bounds, node_cpu=Decimal(1), node_memory=GI)


def test_gke_pools_cost_their_machine_price_times_their_autoscaling_bounds() -> None:
    est = cost.estimate("gke", _gke(spot={"enabled": True}), _capacity(NodeBounds(2, 5, 3)))
    e2_4 = Decimal("0.134") * H
    assert _line(est, "control plane").minimum == Decimal("0.10") * H == Decimal("73.00")
    workload = _line(est, "workload nodes e2-standard-4")
    assert (workload.minimum, workload.maximum) == (2 * e2_4, 5 * e2_4)
    spot = _line(est, "spot nodes e2-standard-4")
    assert spot.minimum == 0 and spot.maximum == 3 * e2_4 * (1 - Decimal("0.70"))
    system = _line(est, "system nodes e2-standard-2")
    assert (system.minimum, system.maximum) == (Decimal("0.067") * H, 3 * Decimal("0.067") * H)
    # boot disks: 50 GiB pd-balanced on 1+2 nodes at minimum, 3+5+3 at maximum
    disks = _line(est, "node boot disks")
    assert (disks.minimum, disks.maximum) == (Decimal("0.10") * 50 * 3, Decimal("0.10") * 50 * 11)
    lo, hi = est.total
    assert lo == sum(x.minimum for x in est.lines if x.minimum is not None) and lo < hi


def test_an_adopted_cluster_is_not_billed_for_nodes_or_control_plane() -> None:
    est = cost.estimate("gke", _gke(create=False, name="existing"), _capacity(NodeBounds(2, 5)))
    assert not [x for x in est.lines if "nodes" in x.item or x.item.startswith("control plane")]


def test_aks_free_tier_has_no_control_plane_fee() -> None:
    r = reader({"location": "westeurope", "resourceGroup": "rg", "skuTier": "Free",
                "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}})
    settings = aks.parse(r)
    assert not r.problems, r.problems.items
    est = cost.estimate("aks", settings, _capacity(NodeBounds(1, 2)))
    assert _line(est, "control plane").minimum == 0


def test_an_unknown_machine_type_is_named_and_left_out_of_the_total() -> None:
    est = cost.estimate("gke", _gke(machineType="n2d-standard-32"), _capacity(NodeBounds(1, 2)))
    line = _line(est, "workload nodes n2d-standard-32")
    assert line.minimum is None and "no price" in line.item
    assert "not in the total" in est.format_table()


@pytest.mark.parametrize(("stack", "config"), [("prod", None), ("eks", "examples/stacks/eks.yaml"),
                                              ("aks", "examples/stacks/aks.yaml")])
def test_capacity_prints_a_monthly_estimate_with_dated_prices_after_the_unchanged_table(
        stack: str, config: str | None) -> None:
    text = capacity_text(stack, ROOT / config if config else None, ROOT)
    values = read_stack(ROOT, stack, ROOT / config if config else None)
    from pulumi.runtime.config import set_all_config

    set_all_config(dict(values.values), list(values.secret_keys))
    settings = read_raw_config_and_settings(values.project, values.stack)
    cap = stack_capacity(settings)
    head = f"Capacity of stack '{stack}' (platform {settings.platform}):\n{cap.format_table()}\n\n"
    assert text.startswith(head)  # the capacity table stays as it was; the estimate follows it
    est = cost.estimate(settings.platform, settings.cluster, cap)
    assert "no price" not in text, "a default machine type or class of a shipped stack has no price"
    assert f"checked {prices.CHECKED.isoformat()}" in text and "not included:" in text
    lo, hi = est.total
    assert "total" in text and f"{lo.quantize(Decimal('0.01')):,}" in text and lo < hi
    for line in est.lines:  # every volume of the capacity table is priced
        assert line.minimum is not None


def test_every_price_names_its_source_and_unit() -> None:
    for platform, table in prices.PRICES.items():
        assert platform in prices.REFERENCE_REGION
        for key, p in table.items():
            assert p.source and p.unit in ("hour", "VM-hour", "GiB-month", "day", "fraction"), key
            assert p.usd >= 0


def test_the_local_stack_has_no_cloud_bill(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "dev"]) == 0
    assert "none billed by a cloud" in capsys.readouterr().out


def test_docs_cost_page_lists_what_the_estimate_leaves_out() -> None:
    page = (ROOT / "docs" / "cost.md").read_text()
    for item in cost.LEFT_OUT:
        assert item in page
    assert Path(prices.__file__).name in page


@pytest.mark.parametrize("tier", gke.sc.FILESTORE_TIERS)
def test_every_filestore_tier_the_config_accepts_has_a_price(tier: str) -> None:
    assert prices.price("gke", f"files:{tier}") is not None


def test_docs_cost_page_shows_every_price_of_the_table() -> None:
    page = (ROOT / "docs" / "cost.md").read_text()
    for platform, table in prices.PRICES.items():
        for key, p in table.items():
            assert f"| {platform} | {key} | {p.usd} | {p.unit} |" in page, (platform, key)
