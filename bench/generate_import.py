#!/usr/bin/env python3
"""Writes the import benchmark's input: a regions file (synthetic villages under the demo townships) and an
observations file with ROWS valid, distinct rows of the health department's indicators. Deterministic."""
import argparse
import csv
import os

# Health-owned indicators reported as totals, with a plausible range for random-looking values.
INDICATORS = [
    ("HEA-01", 10, 40), ("HEA-02", 1, 5), ("HEA-03", 2, 8), ("HEA-04", 3, 10), ("HEA-06", 95, 99.9),
    ("HEA-07", 5, 15), ("HEA-08", 2, 6), ("HEA-09", 10, 20), ("HEA-13", 80, 99), ("HEA-14", 1, 5),
    ("HEA-15", 0.5, 1.5), ("HEA-16", 2, 4), ("HEA-18", 85, 99), ("HEA-19", 85, 99), ("HEA-20", 85, 99),
    ("HEA-21", 40, 80),
]
YEARS = list(range(2015, 2036))
TOWNSHIPS = [f"DEMO-S{i:02}" for i in range(1, 6)] + [f"DEMO-T{i:02}" for i in range(1, 15)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    per_village = len(INDICATORS) * len(YEARS)
    villages = -(-args.rows // per_village)
    with open(os.path.join(args.dir, "regions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "name_zh", "name_en", "level", "residence", "parent", "valid_from", "valid_to"])
        for v in range(villages):
            parent = TOWNSHIPS[v % len(TOWNSHIPS)]
            w.writerow([f"BENCH-V{v:05}", f"基准村{v:05}", f"Bench village {v:05}", "village", "R", parent, "", ""])
    written = 0
    with open(os.path.join(args.dir, "observations.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["indicator", "region", "year", "sex", "age_group", "residence", "value", "numerator", "denominator"])
        for v in range(villages):
            for code, lo, hi in INDICATORS:
                for year in YEARS:
                    if written == args.rows:
                        return
                    # A smooth, deterministic value inside the range: no implausible jumps.
                    share = ((v * 7919 + year * 104729 + hash(code) % 97) % 1000) / 1000
                    value = round(lo + (hi - lo) * (0.4 + 0.2 * share), 2)
                    w.writerow([code, f"BENCH-V{v:05}", year, "_T", "_T", "_T", value, "", ""])
                    written += 1


if __name__ == "__main__":
    main()
