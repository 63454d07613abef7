"""The README is a front page: short, opening with the two commands, and every link it has works on GitHub."""

from __future__ import annotations

import re
from pathlib import Path

from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_is_a_front_page_that_opens_with_the_two_commands() -> None:
    assert len(README.splitlines()) <= 300
    fence = README.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in fence.splitlines() if line and not line.startswith("#")]
    assert commands[0].endswith(".venv/bin/python -m archivist_infra render dev")
    assert commands[1].endswith(".venv/bin/python -m pytest -q")
    assert README.index("```bash") < README.index("## ")  # before any section


def test_every_relative_link_in_the_readme_reaches_a_file_and_its_heading() -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    relative = [link for link in links if not re.match(r"^[a-z]+://", link)]
    assert len(relative) > 10
    broken = []
    for link in relative:
        path, _, anchor = link.partition("#")
        target = ROOT / path
        if not target.exists():
            broken.append(link)
        elif anchor and target.is_file():
            headings = re.findall(r"(?m)^#{1,6} (.+)$", target.read_text(encoding="utf-8"))
            if anchor not in {slugify(h, "-") for h in headings}:
                broken.append(link)
    assert not broken, broken
