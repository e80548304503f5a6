"""Summarizes the result lines of benches/tcp_servers.sh as a markdown table.

usage: python3 benches/tcp_summary.py RESULTS.txt [MORE.txt ...]

For each workload (mode and connections) and implementation: the median over the
repetitions of msgs/s (MB/s for stream) and of the server's CPU per message (MB per
server CPU-second for stream), and the median of the per-repetition ratios
crate / tokio and crate / twisted (samples of the same repetition are paired).
For CPU per message a ratio below 1 means the crate uses less CPU.
"""
import statistics
import sys
from collections import defaultdict


def parse(paths):
    samples = []
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.startswith("workload="):
                    continue
                kv = dict(field.split("=", 1) for field in line.split() if "=" in field)
                samples.append((path, kv))
    return samples


def key_of(kv):
    return f"{kv['mode']} C={kv['conns']}"


def main():
    samples = parse(sys.argv[1:])
    if not samples:
        sys.exit("no result lines")
    # (workload key, impl, run) -> {rep: (rate, cpu)}
    table = defaultdict(dict)
    for path, kv in samples:
        stream = kv["mode"] == "stream"
        rate = float(kv["mb_per_sec"] if stream else kv["ops_per_sec"])
        cpu = float(kv.get("server_mb_per_cpu_s" if stream else "server_cpu_us_per_op", "nan"))
        table[(key_of(kv), kv["impl"])][(path, kv.get("rep", "?"))] = (rate, cpu)
    keys = sorted({k for k, _ in table}, key=lambda k: (k.split()[0], int(k.split("=")[1])))
    impls = [i for i in ("crate", "tokio", "twisted") if any((k, i) in table for k in keys)]

    def med(values):
        values = [v for v in values if v == v]
        return statistics.median(values) if values else float("nan")

    def ratio(k, a, b, idx):
        pa, pb = table.get((k, a), {}), table.get((k, b), {})
        per_rep = [pa[r][idx] / pb[r][idx] for r in pa if r in pb and pb[r][idx]]
        if not per_rep:
            return "—"
        return f"{med(per_rep):.3f} [{min(per_rep):.3f}–{max(per_rep):.3f}] n={len(per_rep)}"

    head = ["workload"]
    for i in impls:
        head += [f"{i} rate", f"{i} cpu"]
    head += ["crate/tokio rate", "crate/tokio cpu", "crate/twisted rate", "crate/twisted cpu"]
    print("rate: msgs/s (stream: MB/s); cpu: server µs per msg (stream: MB per server CPU-s)")
    print("ratios: median [min–max] of per-repetition ratios, n repetitions")
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for k in keys:
        row = [k]
        for i in impls:
            reps = table.get((k, i), {})
            row.append(f"{med(v[0] for v in reps.values()):,.1f}" if reps else "—")
            row.append(f"{med(v[1] for v in reps.values()):.3f}" if reps else "—")
        row += [ratio(k, "crate", "tokio", 0), ratio(k, "crate", "tokio", 1),
                ratio(k, "crate", "twisted", 0), ratio(k, "crate", "twisted", 1)]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
