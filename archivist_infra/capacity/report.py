"""`python -m archivist_infra capacity STACK`: the figures, without running the program."""

from __future__ import annotations

from pathlib import Path

from pulumi.runtime.config import set_all_config

from ..offline.stackfile import read_stack
from ..program import read_raw_config_and_settings
from .cost import estimate
from .sizing import stack_capacity


def capacity_text(stack: str, config_file: Path | None, project_dir: Path) -> str:
    config = read_stack(project_dir, stack, config_file)
    set_all_config(dict(config.values), list(config.secret_keys))
    settings = read_raw_config_and_settings(config.project, config.stack)
    cap = stack_capacity(settings)
    cost = estimate(settings.platform, settings.cluster, cap)
    # The cost section comes after the unchanged capacity table, so readers of the table keep working.
    return (f"Capacity of stack '{stack}' (platform {settings.platform}):\n{cap.format_table()}\n"
            f"\n{cost.format_table()}\n")
