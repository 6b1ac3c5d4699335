"""Datasets: bundled real data, catalogs and connectors."""
