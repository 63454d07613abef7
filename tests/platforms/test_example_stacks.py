"""The example stack files parse cleanly (apart from the Archivist checkout, which is not here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from archivist_infra.images import parse_images
from archivist_infra.platforms import platform_module

from .conftest import reader

EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "stacks").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_cluster_and_images_sections_are_valid(path: Path) -> None:
    config = yaml.safe_load(path.read_text())["config"]
    platform = config["archivist:platform"]
    cluster = reader(config["archivist:cluster"])
    platform_module(platform).parse(cluster)
    assert not cluster.problems, cluster.problems.items
    # No example names images nobody publishes: they build from archivist:source by default.
    assert "archivist:images" not in config
    images = reader({}, "archivist:images")
    assert parse_images(images).build is not None and not images.problems


def test_all_four_examples_exist() -> None:
    assert {p.stem for p in EXAMPLES} >= {"eks", "aks", "kind", "minikube"}
