"""Shared test support: a real moto server on loopback, stack config loading, mocks."""
