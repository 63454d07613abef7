"""archivist-infra: the Pulumi program that deploys the Archivist application on Kubernetes.

`program.py` is what `__main__.py` runs under the Pulumi CLI; `__main__.py` here is the offline
command line (render, graph, capacity, ops, config-reference). One sub-package per concern:
config (stack config to typed settings), platforms (the cluster per cloud), tiers (one component
per application tier), entry (the public entry), backup, secrets_backend, monitoring, ops, offline.
"""
