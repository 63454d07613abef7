"""Apply a stack, then apply it again rendered from a changed config: what does the real server say?

`apply_then_update(cluster, before, after)` is the helper every update test uses: both configs
are rendered by the real program into the same fresh namespace, the first render must be
accepted whole, the second is applied over it exactly as `pulumi up` would (server-side apply,
field manager pulumi-kubernetes), and the result says per object what the server refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from archivist_infra.offline.stackfile import StackConfig

from .kube import Applied, Cluster
from .stacks import Rendered, apply_render, cleanup, fresh_namespace, render, with_config

# kubectl reports a refusal as `Error from server (Invalid): StatefulSet.apps "neo4j" is invalid: ...`
# or as `The StatefulSet "neo4j" is invalid: spec: Forbidden: ...`.
_REFUSAL = re.compile(r'^(?:Error from server \(\w+\): (?:error when [^:]*: )?|The )'
                      r'(?P<kind>[A-Za-z]+)(?:\.[\w.-]+)? "(?P<name>[^"]+)" is invalid: (?P<message>.*)$')


@dataclass(frozen=True)
class Update:
    cluster: Cluster
    before: Rendered
    after: Rendered
    results: list[Applied]  # the second apply, pass by pass

    @property
    def namespace(self) -> str:
        return self.after.namespace

    @property
    def errors(self) -> list[str]:
        return [e for r in self.results for e in r.errors]

    @property
    def warnings(self) -> list[str]:
        return [w for r in self.results for w in r.warnings]

    @property
    def accepted(self) -> bool:
        return not self.errors

    def refusals(self) -> dict[str, str]:
        """`Kind/name` -> the server's message, for every object the update was refused for."""
        out: dict[str, str] = {}
        for line in self.errors:
            match = _REFUSAL.match(line)
            key = f"{match['kind']}/{match['name']}" if match else "?"
            out[key] = (out.get(key, "") + "\n" if key in out else "") + (match["message"] if match else line)
        return out

    def changed(self) -> list[str]:
        """`Kind/name` of every object whose render differs between before and after."""
        def index(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
            return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}

        old, new = index(self.before.objects), index(self.after.objects)
        return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))

    def live(self, kind: str, name: str) -> dict[str, Any]:
        return self.cluster.get(kind, name, namespace=self.namespace)


# Fields whose change makes pulumi-kubernetes plan a replacement rather than an update (its force-new
# table, provider/v4 pkg/provider/diff.go:177-185 for batch/v1 Job): a Job's pod template is immutable.
_FORCE_NEW = {"Job": ("completions", "parallelism", "selector", "template")}


def replaced_by_the_provider(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, name) of every object the provider would replace: a force-new field of its spec changed."""
    old = {(o["kind"], o["metadata"]["name"]): o for o in before}
    out = []
    for o in after:
        key = (o["kind"], o["metadata"]["name"])
        fields = _FORCE_NEW.get(o["kind"], ())
        if key in old and any(old[key].get("spec", {}).get(f) != o.get("spec", {}).get(f) for f in fields):
            out.append((key[0].lower(), key[1]))
    return out


@contextmanager
def apply_then_update(cluster: Cluster, before: StackConfig, after: StackConfig) -> Iterator[Update]:
    """Deploy `before` into a fresh namespace, then apply `after` over it; cleans up on exit."""
    namespace = fresh_namespace("up")
    first = render(with_config(before, namespace=namespace))
    second = render(with_config(after, namespace=namespace))
    try:
        initial = apply_render(cluster, first)
        errors = [e for r in initial for e in r.errors]
        assert not errors, "the first apply was refused:\n" + "\n".join(errors)
        for kind, name in replaced_by_the_provider(first.objects, second.objects):
            # `pulumi up` replaces these instead of updating them: delete, as the replacement does first.
            cluster.run("delete", kind, name, "-n", namespace, "--wait=true", check=True)
        yield Update(cluster, first, second, apply_render(cluster, second))
    finally:
        cleanup(cluster, second)
        cleanup(cluster, first)
