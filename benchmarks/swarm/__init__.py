"""Distributed load with Locust: one master and N worker processes (on one machine or many), at a target arrival rate.

`runner` starts the processes and merges their results into the report `mlops bench run` prints; `locustfile` is
what each Locust process runs; `settings` is what the two share. Locust itself is an optional extra and is imported
only inside the Locust processes (it patches the standard library with gevent when imported).
"""
