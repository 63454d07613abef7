"""Time: every pin is in the dated table (archivist_infra/versions.py), matches the code, and no default
or example has passed its end of support today (from the clock, not from the table's own date)."""

from __future__ import annotations

import importlib
import re
from datetime import date

import pytest
import yaml

from archivist_infra import lifecycle_doc, versions
from archivist_infra.platforms import eks
from tests.conftest import ROOT

TODAY = date.today()


def _constant(where: str) -> object:
    module, name = where.split(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("pin", [p for p in versions.PINS if ":" in p.where and "[" not in p.where],
                         ids=lambda p: p.name)
def test_every_pinned_constant_matches_the_table(pin: versions.Pin) -> None:
    value = _constant(pin.where)
    assert value == pin.version, f"{pin.where} is {value!r}; archivist_infra/versions.py says {pin.version!r}"


def test_every_image_constant_renovate_bumps_is_in_the_table() -> None:
    """A `*_IMAGE` constant (what renovate.json's regex manager bumps) that the table does not name is a pin
    no expiry test watches: the data keeper's busybox (data-ops) arrived without its line."""
    table = {p.where for p in versions.PINS}
    pattern = re.compile(r'^([A-Z_]+_IMAGE) = "[^"]+"', re.M)
    missing = []
    for path in sorted((ROOT / "archivist_infra").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        missing += [f"{module}:{name}" for name in pattern.findall(path.read_text())
                    if f"{module}:{name}" not in table]
    assert not missing, f"image constants without a line in archivist_infra/versions.py PINS: {missing}"


def test_every_crd_folder_the_suite_applies_is_in_the_table() -> None:
    folders = {p.name for p in (ROOT / "tests" / "crds").iterdir() if p.is_dir()}
    table = {p.where.rsplit("/", 1)[-1] for p in versions.PINS if p.kind == "crds"}
    assert folders == table
    for pin in versions.PINS:
        if pin.kind == "crds":
            assert pin.where.endswith(f"-{pin.version}")


def test_every_dockerfile_base_image_is_in_the_table() -> None:
    froms = set()
    for dockerfile in (ROOT / "images").glob("*.Dockerfile"):
        froms |= set(re.findall(r"^FROM ([^@\s]+)", dockerfile.read_text(), re.M))
    table = {f"{p.name}:{p.version}" for p in versions.PINS if p.kind == "base-image"}
    assert froms == table


def test_every_workflow_action_is_pinned_by_commit_and_in_the_table() -> None:
    used = set()
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        for ref in re.findall(r"uses:\s*([^\s#]+)", workflow.read_text()):
            if ref.startswith("./"):
                continue
            action, _, sha = ref.partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", sha), f"{workflow.name}: {ref} is not pinned by commit"
            used.add((action, sha))
    assert used == {(p.name, p.version) for p in versions.PINS if p.kind == "action"}


def test_no_pinned_default_has_passed_its_end_date_today() -> None:
    expired = []
    for pin in versions.PINS:
        if pin.end is not None and pin.end <= TODAY:
            waiver = versions.WAIVERS.get(pin.name)
            if waiver is None or waiver[1] <= TODAY:
                expired.append(f"{pin.kind} {pin.name} {pin.version}: support ended {pin.end} ({pin.source})")
    assert not expired, "\n".join(expired)


def test_waivers_name_pins_that_really_are_past_their_end() -> None:
    for name in versions.WAIVERS:
        (pin,) = [p for p in versions.PINS if p.name == name]
        assert pin.end is not None and pin.end <= TODAY, f"waiver for {name} is no longer needed: remove it"


def _example_minor(platform: str) -> str:
    stack = yaml.safe_load((ROOT / "examples" / "stacks" / f"{platform}.yaml").read_text())
    return str(stack["config"]["archivist:cluster"]["kubernetesVersion"])


@pytest.mark.parametrize(("cloud", "minor"), [
    ("eks", versions.EKS_DEFAULT_VERSION),
    ("eks", _example_minor("eks")),
    ("aks", versions.AKS_EXAMPLE_VERSION),
    ("aks", _example_minor("aks")),
])
def test_kubernetes_defaults_and_examples_are_inside_standard_support_today(cloud: str, minor: str) -> None:
    row = versions.kubernetes_minor(cloud, minor)
    assert row is not None, f"{cloud} {minor} is not in the lifecycle table"
    assert row.standard_support_end > TODAY, (
        f"{cloud} {minor} left standard support on {row.standard_support_end} ({row.source}); "
        "move the default and the example to a newer minor")


def test_eks_defaults_to_the_table_minor_with_its_matching_autoscaler_chart() -> None:
    from tests.platforms.conftest import reader

    r = reader({"region": "eu-west-1", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}})
    settings = eks.parse(r)
    assert not r.problems, r.problems.items
    assert settings.kubernetes_version == versions.EKS_DEFAULT_VERSION
    assert settings.autoscaler_chart_version == versions.AUTOSCALER_CHARTS[versions.EKS_DEFAULT_VERSION]


def test_autoscaler_chart_table_covers_every_eks_minor_in_standard_support() -> None:
    current = [row.minor for row in versions.KUBERNETES if row.cloud == "eks" and row.standard_support_end > TODAY]
    assert current, "no EKS minor of the table is in standard support today: add the new ones"
    assert [m for m in current if m not in versions.AUTOSCALER_CHARTS] == []


def test_docs_lifecycle_page_is_generated_from_the_table() -> None:
    assert lifecycle_doc.PAGE.read_text() == lifecycle_doc.render(), (
        "docs/lifecycle.md is stale: run `python -m archivist_infra.lifecycle_doc`")
