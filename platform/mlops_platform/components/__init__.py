"""Pulumi components of the platform, one job each."""
