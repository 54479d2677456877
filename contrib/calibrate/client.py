#!/usr/bin/python3
"""One client, Python's urllib, in a closed loop (run it with Debian's /usr/bin/python3).

    /usr/bin/python3 contrib/calibrate/client.py URL PERIOD_MS DURATION_S

Each request is urllib.request.urlopen(URL) with every default: the default timeout (none),
getaddrinfo's addresses tried one after the other by socket.create_connection, no retry, and a
new connection per request (urllib sends "Connection: close"). Request k+1 starts at
max(start_k + PERIOD_MS, end_k); no request starts after DURATION_S seconds. On stdout, one line
per event (see README.md):
    S <id> <epoch_ms>
    E <id> <epoch_ms> <status> <site> <error>
"""
import errno
import http.client
import json
import re
import socket
import sys
import time
import urllib.error
import urllib.request

SITE = re.compile(rb'"site"\s*:\s*"([^"\s]+)"')


def now_ms():
    return time.time() * 1000.0


def site_of(body):
    try:
        site = json.loads(body).get("site")
        if isinstance(site, str) and site and not re.search(r"\s", site):
            return site
    except (ValueError, AttributeError):
        pass
    m = SITE.search(body or b"")
    return m.group(1).decode("utf-8", "replace") if m else "-"


def error_token(e):
    """A short name for why a request failed: refused, timeout, reset, dns, or the class's."""
    if isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError):
        if isinstance(e.reason, BaseException):
            return error_token(e.reason)
        return "URLError"
    if isinstance(e, socket.gaierror):
        return "dns"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, ConnectionResetError):
        return "reset"
    if isinstance(e, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(e, OSError) and e.errno == errno.EHOSTUNREACH:
        return "unreachable"
    return type(e).__name__


def one(url):
    """Runs one request: (status, site, error)."""
    try:
        with urllib.request.urlopen(url) as r:
            body = r.read()
            return r.status, site_of(body), "-"
    except urllib.error.HTTPError as e:  # a complete answer with a status of 400 or more
        try:
            body = e.read()
        except (OSError, http.client.HTTPException) as e2:
            return e.code, "-", error_token(e2)
        return e.code, site_of(body), "-"
    except (OSError, http.client.HTTPException, ValueError) as e:
        return 0, "-", error_token(e)


def main(argv):
    try:
        if len(argv) != 4:
            raise ValueError("three arguments")
        url, period_ms, duration_s = argv[1], float(argv[2]), float(argv[3])
        if period_ms < 0 or duration_s < 0:
            raise ValueError("negative")
    except ValueError:
        print(f"usage: {argv[0]} URL PERIOD_MS DURATION_S", file=sys.stderr)
        return 2
    begin = now_ms()
    k = 0
    while True:
        start = now_ms()
        if start - begin >= duration_s * 1000.0:
            break
        print(f"S {k} {start:.3f}", flush=True)
        status, site, error = one(url)
        end = now_ms()
        print(f"E {k} {end:.3f} {status} {site} {error}", flush=True)
        k += 1
        wait = start + period_ms - now_ms()
        if wait > 0:
            time.sleep(wait / 1000.0)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
