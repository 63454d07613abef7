"""Entry point of the Archivist policy pack: ``pulumi preview --policy-pack policy``.

The Pulumi CLI runs this file with ``runpy.run_path(<pack dir>, run_name="__main__")``.
``PolicyPack(...)`` starts the analyzer's gRPC server and then blocks forever, so it is
only constructed under the ``__main__`` guard; tests import this module and call
``main`` with a stand-in for ``PolicyPack``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # runpy already adds the pack directory; be explicit anyway
    sys.path.insert(0, _HERE)

from archivist_policies import PACK_DESCRIPTION, PACK_NAME, POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack


def main(pack_factory: Callable[..., Any] = PolicyPack) -> Any:
    """Build the policy pack (by default: serve it to the Pulumi engine)."""
    return pack_factory(
        name=PACK_NAME,
        policies=POLICIES,
        enforcement_level=EnforcementLevel.MANDATORY,
        description=PACK_DESCRIPTION,
    )


if __name__ == "__main__":
    main()
