"""Profiles: what a sandbox may do. Models, built-ins and loading."""
