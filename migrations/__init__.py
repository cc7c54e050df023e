"""Alembic migrations, shipped inside the package so `timeline migrate` works anywhere."""
