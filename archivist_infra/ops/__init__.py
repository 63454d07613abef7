"""`python -m archivist_infra ops VERB STACK ...`: day-2 commands on the Kubernetes API.

The successor of the deployment guide's `scripts/k8s-manage.sh` (guide, "Using Management
Script"): every verb talks to the API server through the official `kubernetes` client and
reads the namespace and cluster context from the stack's config.
"""
