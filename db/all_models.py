"""Imports every models module so ``Base.metadata`` knows every table
(Alembic autogenerate and test set-up rely on it)."""

from __future__ import annotations

from db import alerts_models, models

__all__ = ["alerts_models", "models"]
