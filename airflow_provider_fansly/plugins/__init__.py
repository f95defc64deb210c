"""The Fansly page in Airflow's UI (:mod:`.registration`), its data and the operator's link.

Nothing is imported here: the operator imports :mod:`.link` in every worker, and the page's
readers and FastAPI load only in the api-server.
"""
