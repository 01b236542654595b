"""Placeholder until this role is written."""
