"""The platforms a stack can deploy to, loaded one at a time.

Each platform module imports its cloud SDK at module level, so importing the module is
what costs: `platform_module` imports only the one a stack names, and a `local` stack
never loads pulumi_gcp, pulumi_aws or pulumi_azure_native.
"""

from __future__ import annotations

import importlib
import types
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from ..capacity.figures import NodeBounds, StorageBilling
    from ..config.reader import ConfigReader
    from .target import ClusterTarget

PLATFORMS = ("local", "gke", "eks", "aks")


class PlatformModule(Protocol):
    """What every module in this package offers; the lead's loader calls these generically.

    Order: `parse` (while collecting config problems) -> `node_machine` and
    `storage_billing` (capacity, no resources) -> `build` (registers resources).
    """

    def parse(self, reader: ConfigReader) -> Any: ...

    def node_machine(self, settings: Any) -> tuple[Decimal, Decimal]: ...

    def storage_billing(self, settings: Any) -> StorageBilling: ...

    def has_spot_pool(self, settings: Any) -> bool: ...

    def build(self, name: str, settings: Any, *, node_bounds: NodeBounds, protect: bool) -> ClusterTarget: ...


def platform_module(name: str) -> PlatformModule:
    if name not in PLATFORMS:
        raise ValueError(f"unknown platform {name!r}; expected one of {', '.join(PLATFORMS)}")
    module: types.ModuleType = importlib.import_module(f"{__name__}.{name}")
    return cast("PlatformModule", module)


__all__ = ["PLATFORMS", "PlatformModule", "platform_module"]
