"""Lineage as plain data, turned into OpenLineage facets only when the listener asks."""
