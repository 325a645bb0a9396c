# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""Kafka consumer standard: runner, handler registry, envelope, publisher, dead-letter, inbox."""
