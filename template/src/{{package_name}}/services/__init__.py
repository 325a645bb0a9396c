"""Use cases: functions that take repositories or a unit of work (service-owned)."""
