"""Kafka event handlers (service-owned)."""
