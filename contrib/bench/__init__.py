"""The benchmark harness: nolbd side by side with other DNS servers, its health checking, its
zone scale and a soak, run from one entry point (contrib/bench.py).

Shared parts: procs (children in their own process groups, stopped by PID; what /proc says about
them), stats (median, quartiles, interval, ratios: computed here and nowhere else), report
(Markdown and CSV tables), plots (PNG and SVG through matplotlib), dnswire (a small DNS client
for checks and polling), dnsperf (running it and reading its report), common (paths, ports,
deadlines, messages). One module per benchmark: dns, health, zone, soak.
"""
