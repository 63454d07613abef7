"""Offline commands: `python -m archivist_infra {render,graph,capacity} STACK`, `config-reference [--check]`.

They run the real program through Pulumi's mock engine: no Pulumi CLI, cluster or cloud
account is needed, and encrypted config is never decrypted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config.problems import ConfigError
from .offline import engine
from .offline.graph import graph, mermaid
from .offline.render import manifests, to_yaml
from .offline.stackfile import StackFileError, read_stack
from .ops.cli import add_ops_parser, run_ops

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m archivist_infra", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("render", "print every Kubernetes object the stack would create"),
                       ("graph", "print every resource with its parent, dependencies, provider, protect"),
                       ("capacity", "print the CPU, memory, storage and node figures of the stack")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
        cmd.add_argument("--config-file", type=Path, help="another stack file to read instead")
        if name == "render":
            cmd.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
        if name == "graph":
            cmd.add_argument("--format", choices=("json", "mermaid"), default="json")
            cmd.add_argument("--inputs", action="store_true",
                             help="add each resource's registered inputs (secrets as [secret]), ignoreChanges and hooks")
    ref = sub.add_parser("config-reference", help="write docs/configuration.md and Pulumi.yaml's config: from "
                                                   "the program's own config getters")
    ref.add_argument("--check", action="store_true", help="write nothing; exit 1 when a generated file is stale")
    add_ops_parser(sub)
    return parser


def run_stack(stack: str, config_file: Path | None = None, project_dir: Path = PROJECT_DIR) -> engine.Run:
    from .program import main as program_main

    config = read_stack(project_dir, stack, config_file)
    return engine.run(config, program_main)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "ops":
        return run_ops(args, PROJECT_DIR)
    if args.command == "config-reference":
        from .config import reference

        stale, crashes = reference.run(PROJECT_DIR, check=args.check)
        for path in stale:
            verb = "is stale: run" if args.check else "written by"
            print(f"{path.relative_to(PROJECT_DIR)} {verb} `{reference.COMMAND}`", file=sys.stderr)
        for crash in crashes:
            print(f"error: the config loader raised instead of reporting a problem: {crash}", file=sys.stderr)
        return 1 if crashes or (stale and args.check) else 0
    try:
        if args.command == "capacity":
            from .capacity.report import capacity_text

            print(capacity_text(args.stack, args.config_file, PROJECT_DIR), end="")
            return 0
        run = run_stack(args.stack, args.config_file)
    except (ConfigError, StackFileError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

    if args.command == "render":
        text = to_yaml(manifests(run))
        if args.output:
            args.output.write_text(text)
        else:
            sys.stdout.write(text)
    else:
        data = graph(run, inputs=args.inputs)
        sys.stdout.write(mermaid(data) if args.format == "mermaid" else json.dumps(data, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
