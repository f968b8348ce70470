"""Storage adapters: SQLAlchemy tables, SQL repositories and Alembic migrations."""
