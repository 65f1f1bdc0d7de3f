#!/usr/bin/python3
"""The same get-config as bench/netconf_bench's direct cell, through ncclient
(Debian's python3-ncclient: the NETCONF library TeraFlowSDN's driver uses),
on one persistent session. Started by netconf_bench in the same run; prints
one JSON object: {"per_second", "p50_us", "p99_us", "errors", "count"}.

  netconf_ncclient_bench.py HOST PORT USER PASSWORD_FILE WINDOW_MS
"""
import json
import sys
import time

from ncclient import manager

FILTER = ('<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">'
          '<interface><name>bench0</name></interface></interfaces>')


def main():
    host, port, user, password_file, window_ms = sys.argv[1:6]
    with open(password_file) as f:
        password = f.read().strip()
    # The bench's netconfd is a throw-away loopback server with a fresh host
    # key: no known_hosts to check against (southgate's own cells check it).
    with manager.connect(host=host, port=int(port), username=user,
                         password=password, hostkey_verify=False,
                         look_for_keys=False, allow_agent=False,
                         timeout=30) as session:
        # Warm-up: the first RPCs of a session are slower.
        for _ in range(3):
            session.get_config(source='running', filter=('subtree', FILTER))
        latencies = []
        errors = 0
        window = int(window_ms) / 1000.0
        start = time.monotonic()
        while time.monotonic() - start < window:
            t0 = time.monotonic()
            try:
                reply = session.get_config(source='running',
                                           filter=('subtree', FILTER))
                if 'bench0' not in reply.data_xml:
                    errors += 1
            except Exception:  # counted, as the C++ cells count errors
                errors += 1
            latencies.append((time.monotonic() - t0) * 1e6)
        elapsed = time.monotonic() - start
    latencies.sort()
    count = len(latencies)

    def quantile(q):
        return int(latencies[min(count - 1, int(q * count))]) if count else -1

    print(json.dumps({'per_second': count / elapsed, 'p50_us': quantile(0.5),
                      'p99_us': quantile(0.99), 'errors': errors,
                      'count': count}))


if __name__ == '__main__':
    main()
