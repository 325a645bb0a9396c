"""The fleet tool: status, drift and updates across many generated services."""
