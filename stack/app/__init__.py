"""A small Raymontology-like application: FastAPI backend and Celery worker.

It exists to give the reference stack's Prometheus the same series production has:
the instrumentator's HTTP metrics, the catalog's business metrics (raymontology_metrics),
the SQLAlchemy pool gauges and query histogram, and Celery task metrics under
danihodovic/celery-exporter's names.
"""
