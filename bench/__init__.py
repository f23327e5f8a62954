"""qbd-sync benchmarks: ratios against the ideal bound and the alternatives, in one run.

``python -m bench --quick`` (CI-sized, under three minutes on two cores) or ``--full``.
Each scenario starts what it needs on one embedded stack, runs the Conductor simulator in
a subprocess with its latency model, and runs every processor it measures (qbd-sync, the
naive consumer, the bare loop) in its own subprocess, so CPU and memory are their own.
"""
