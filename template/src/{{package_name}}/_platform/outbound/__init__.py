# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""Outbound HTTP standard: calling the service's declared dependencies (other services).

A dependency is declared as an `HttpDependency` field of the service's `Settings`; the
platform gives it one application-scoped client (`OutboundClients[name]`) with timeouts,
retries, a circuit breaker, correlation-id propagation, logs and metrics. docs/dependencies.md
says how to declare, call and tune one.
"""
