"""The exporters the monitoring tier runs in the stack's namespace: names, ports and sizes.

Kept free of Pulumi so capacity planning and the quota can count them (capacity/demands_from_settings.py).
"""

from __future__ import annotations

from ..config.settings import Resources, Settings

REDIS_EXPORTER, KAFKA_EXPORTER, BLACKBOX = "redis-exporter", "kafka-exporter", "blackbox-exporter"
# Ports: redis_exporter v1.88.0 main.go:173 (:9121); kafka_exporter v1.9.0 kafka_exporter.go (:9308);
# blackbox_exporter v0.28.0 main.go:60 (:9115).
REDIS_EXPORTER_PORT, KAFKA_EXPORTER_PORT, BLACKBOX_PORT = 9121, 9308, 9115

EXPORTER_RESOURCES = {
    REDIS_EXPORTER: Resources("25m", "32Mi", "100m", "64Mi"),
    KAFKA_EXPORTER: Resources("50m", "64Mi", "200m", "128Mi"),
    BLACKBOX: Resources("25m", "32Mi", "100m", "64Mi"),
}


def probes_public_entry(settings: Settings) -> bool:
    """The blackbox exporter checks the public entry's certificate when the entry speaks TLS."""
    ing = settings.ingress
    return ing.mode != "none" and ing.host is not None and (ing.mode == "gateway" or ing.tls_issuer is not None)
