"""Crawl jobs: the queue in the catalog, the scheduler in `vellum serve`, worker processes."""
