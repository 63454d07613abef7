"""Entry point for `pulumi up` / `pulumi preview`: all logic lives in archivist_infra."""

from archivist_infra.program import main

main()
