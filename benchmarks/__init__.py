"""Load generation, latency statistics, reports and the p95 gate."""
