"""Monitoring: metric names, alert rules and dashboards, independent of Pulumi."""
