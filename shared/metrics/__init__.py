"""Prometheus metrics: the metric objects (`registry`), HTTP glue and `/metrics` (`http`), and the
scrape-time gauges of the tables waiting to be sent (`backlog`)."""
