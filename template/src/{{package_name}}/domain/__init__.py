"""The service's domain model: plain classes and domain errors, no I/O (service-owned)."""
