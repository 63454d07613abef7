"""The application's tiers as Pulumi components: one `ComponentResource` per tier (stores, apps,
public entry, monitoring, quotas, network policies), wired by `stack.py` so outputs feed inputs."""
