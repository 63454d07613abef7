"""The `engine` suite: the real Pulumi CLI and Kubernetes provider on a real API server (docs/engine.md)."""
