"""Pinned images of the stores. Changing one is a deliberate, reviewed upgrade."""

NEO4J_IMAGE = "neo4j:5.26.2-community"  # 5.26 is Neo4j's LTS line
KAFKA_IMAGE = "apache/kafka:4.3.1"  # KRaft only; runs as uid 1000; newest 4.x patch (4.3.2 only as rc)
# uid 1000, no root chown at start. >= 1.15.0 applies the default replication factor (qdrant#6623); a running
# stack climbs one minor at a time (tiers/qdrant_upgrade.py UPGRADE_PATH, refused otherwise).
QDRANT_IMAGE = "qdrant/qdrant:v1.15.5-unprivileged"
REDIS_IMAGE = "redis:7.4.11-alpine"  # uid 999; >= 7.4.6 fixes CVE-2025-49844 (docker-library/official-images library/redis @37079fb L77)
