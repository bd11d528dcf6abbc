#!/usr/bin/env python3
"""How long a running `qnode devnet` takes until every node has verified every peer.

    qnode devnet --nodes 20 --dir /tmp/d20/net &
    scripts/devnet_verified.py /tmp/d20/net 20 460

Reads each node's status.json every 5 s (from the moment this starts, so start it with
the devnet); prints the nodes that have verified all their peers, the lowest count of
verified peers and the head range; at the end, when each (node, peer) pair was first seen
verified (first, p10, p50, p90, last) and how many pairs ever had a negative score.
"""
import json
import os
import sys
import time


def main(directory, nodes, seconds):
    start = time.time()
    first, penalised = {}, set()
    while time.time() - start < seconds:
        elapsed = time.time() - start
        counts = []
        for i in range(nodes):
            try:
                with open(os.path.join(directory, f"node-{i}", "status.json")) as f:
                    status = json.load(f)
            except (OSError, ValueError):
                continue
            verified = 0
            for peer in status["peers"]:
                if peer.get("score", 0) < 0:
                    penalised.add((i, peer["peer_id"]))
                if peer.get("reports_verified", 0) > 0:
                    verified += 1
                    first.setdefault((i, peer["peer_id"]), elapsed)
            counts.append((verified, status["head_frame"]))
        done = sum(1 for verified, _ in counts if verified == nodes - 1)
        heads = [head for _, head in counts] or [0]
        lowest = min((verified for verified, _ in counts), default=0)
        print(f"{elapsed:6.0f}s all peers verified by {done}/{nodes} nodes, "
              f"fewest {lowest}, heads {min(heads)}-{max(heads)}", flush=True)
        if done == nodes:
            break
        time.sleep(5)
    times = sorted(first.values())
    if times:
        at = lambda q: times[min(len(times) - 1, int(q * len(times)))]
        print(f"pairs verified {len(times)}/{nodes * (nodes - 1)}: first {times[0]:.0f}s "
              f"p10 {at(.1):.0f}s p50 {at(.5):.0f}s p90 {at(.9):.0f}s last {times[-1]:.0f}s; "
              f"penalised pairs {len(penalised)}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
