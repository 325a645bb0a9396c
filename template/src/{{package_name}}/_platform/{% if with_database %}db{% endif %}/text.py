# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""`StoredText`: a string every supported database can store.

PostgreSQL refuses U+0000 (NUL) in `text` and `varchar` (SQLite takes it), so a NUL that
reached the database answered 500 on one database and 201 on the other. Declaring input
fields as `StoredText` makes it a 422 naming the field on every database, before any SQL.
"""

from typing import Annotated

from pydantic import StringConstraints

StoredText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
