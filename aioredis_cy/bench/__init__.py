"""The benchmark behind ``python -m aioredis_cy.bench`` (install the ``bench`` extra for its peers).

``clients`` drives aioredis_cy, aioredis 1.x and redis-py through one interface,
``workloads`` defines what is timed, ``runner`` interleaves the runs and
``report`` prints and saves the results.
"""
