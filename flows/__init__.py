"""Prefect flows driving each evaluation cycle over the services' HTTP APIs (issue: flows).
Flows never import a service."""
