"""cache_maintenance."""
