"""Persistence adapters: repositories take an AsyncSession, never settings or an engine (service-owned)."""
