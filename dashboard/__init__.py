"""GDPR compliance dashboard for aelvirionek: checks operational data against the privacy notice."""

__version__ = "0.1.0"
