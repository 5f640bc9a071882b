"""`make bench` (python -m bench): throughput, latency, scaling and memory of
the Gifts API. One module per part of a run:

- settings: what a run measures (the BENCH_* variables, BENCH_QUICK=1)
- serving:  the gunicorn processes of the app and of the ceiling (ceiling.py)
- load:     wrk against one server, and whose CPU time a run took
- cases:    the HTTP cases, and one database's run of them
- databases: the SQLite file and the PostgreSQL databases a run makes and drops
- seed:     the gifts, people and lists the cases and the scaling read
- scaling:  the migration, listing and search on the big table
- targets:  what each figure must reach; the pass/fail checks
- report:   latest.json and the Markdown tables
- chart:    latest.png
- __main__: the order of it all, and the clean-up

Separate studies that reuse these parts: threads.py, log_cost.py,
profile_app.py, preping.py.
"""
