"""What operators watch: Prometheus metrics and the request context of every log line."""
