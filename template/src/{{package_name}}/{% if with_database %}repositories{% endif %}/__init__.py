"""Persistence (service-owned): repositories receive the request's session, never settings or
an engine, and never commit (the unit of work does).

Every module in this package is imported by Alembic (`migrations/env.py`), so a table defined
here is seen by `alembic revision --autogenerate` and by the models-vs-migrations test.
"""
