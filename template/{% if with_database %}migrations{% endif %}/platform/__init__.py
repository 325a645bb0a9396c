# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""Template-owned migrations: the Alembic branch `platform`.

Tables of the platform (for example the Kafka inbox) are created by revisions in this folder,
on their own branch with its own base, so that a template release can add one without touching
the service's revisions in `migrations/versions/` (branch `service`), and a service that
deletes its example revision keeps a working chain. `migrate` upgrades every branch (`heads`).
"""
