"""Capacity: how big the cluster must be for the stack, and what it costs.

Everything that turns the validated settings into plain numbers lives here, so the
`capacity` command can print them before anything exists and the platforms can size
their node pools from the same figures:

- `demand`: what one workload asks of the cluster (requests, limits, replicas, volumes);
- `demands_from_settings`: those demands for every Archivist workload, from the settings;
- `figures`: node pool bounds and storage billing derived from the demands;
- `sizing`: the figures of one stack on its platform (machine type, billing rules, spot pool);
- `prices`: the dated price table (unit, source, verified) per cloud;
- `cost`: the estimated monthly bill at minimum and maximum size, from `figures` and `prices`;
- `report`: the text of `python -m archivist_infra capacity STACK` (figures, then the estimate).

This package imports nothing at import time: platforms import `figures` and `sizing`
imports the platforms, so re-exporting here would make a cycle.
"""
