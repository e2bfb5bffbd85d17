"""Persistence: models, repositories, the unit of work and Alembic migrations.

The only package that imports SQLAlchemy. Imports nothing else of ours.
"""
