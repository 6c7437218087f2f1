"""Central match service (encoded zone)."""
