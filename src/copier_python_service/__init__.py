"""copier-python-service: tooling shipped with the template (the fleet tool)."""
