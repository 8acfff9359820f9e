"""Switchboard: a bank's contact-center chat service."""

__version__ = "0.1.0"
