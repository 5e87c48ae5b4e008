"""What operators watch of the domain, for Prometheus: counters fed by the booking signals (receivers.py)
and gauges read from the database when /metrics is scraped (collectors.py). The endpoint itself, the request
latency, the request id and the logs are the wiring's (app/observability.py)."""
