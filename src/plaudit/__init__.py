"""Plaudit: an integration hub for employee engagement and incentive programs."""

__version__ = "0.1.0"
