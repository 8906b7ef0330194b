//! What protecting a restricted table costs (issue 18): the first release of a table of each size, and
//! the next release after corrections (computed against the first, as readers may compare them), timed
//! on the pure suppression code that `service::disclosure` runs once per published table. Run with
//! `bench/suppression.sh`, which appends the figures to `bench/results/suppression.md`.
//!
//! The tables have the demo's shape — a city, townships, optionally villages, by sex and by four age
//! groups — with counts drawn (deterministically) as restricted counts are: many zeros and small counts in
//! townships and villages, larger ones above.

use childhub::service::disclosure::suppression::{Cell, Release, suppress_after};
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift), so every run protects the same tables.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A leaf count: 30 % zeros, 40 % below 5, the rest 5–40.
    fn count(&mut self) -> f64 {
        match self.next() % 10 {
            0..=2 => 0.0,
            3..=6 => (1 + self.next() % 4) as f64,
            _ => (5 + self.next() % 36) as f64,
        }
    }
}

const SEXES: [&str; 2] = ["M", "F"];
const AGES: [&str; 4] = ["Y0T5", "Y6T11", "Y12T14", "Y15T17"];

/// The cells of a table: leaf counts by region × sex × age, summed into every marginal the hub
/// publishes (region × sex, region × age, region total) for every region up the tree.
fn table(townships: usize, villages: usize, seed: u64, first_id: i64) -> Vec<Cell> {
    let mut draw = Draw(seed);
    // region id → parent
    let mut regions: Vec<(i32, Option<i32>)> = vec![(1, None)];
    let mut leaves = Vec::new();
    let mut next = 2;
    for _ in 0..townships {
        let township = next;
        next += 1;
        regions.push((township, Some(1)));
        if villages == 0 {
            leaves.push(township);
        }
        for _ in 0..villages {
            regions.push((next, Some(township)));
            leaves.push(next);
            next += 1;
        }
    }
    let parent = |r: i32| {
        regions
            .iter()
            .find(|(id, _)| *id == r)
            .and_then(|(_, p)| *p)
    };
    // (leaf, sex, age) → count
    let mut counts = Vec::new();
    for &leaf in &leaves {
        for s in SEXES {
            for a in AGES {
                counts.push((leaf, s, a, draw.count()));
            }
        }
    }
    let under = |mut r: i32, ancestor: i32| loop {
        if r == ancestor {
            return true;
        }
        match parent(r) {
            Some(p) => r = p,
            None => return false,
        }
    };
    let mut cells = Vec::new();
    let mut id = first_id;
    for &(region, up) in &regions {
        let margins = std::iter::once(("_T", "_T"))
            .chain(SEXES.iter().map(|s| (*s, "_T")))
            .chain(AGES.iter().map(|a| ("_T", *a)));
        for (sex, age) in margins {
            let amount: f64 = counts
                .iter()
                .filter(|(leaf, s, a, _)| {
                    under(*leaf, region) && (sex == "_T" || *s == sex) && (age == "_T" || *a == age)
                })
                .map(|(_, _, _, c)| c)
                .sum();
            id += 1;
            cells.push(Cell {
                value: id,
                region,
                parent: up,
                sex: sex.to_owned(),
                age: age.to_owned(),
                residence: "_T".to_owned(),
                amount: Some(amount),
            });
        }
    }
    cells
}

/// The median of `runs` timings of `work`.
fn median(runs: usize, mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    println!("| table | cells | hidden | first release | next release (after corrections) |");
    println!("|---|---|---|---|---|");
    let shapes = [
        ("demo city: 20 townships", 20, 0),
        ("40 townships", 40, 0),
        ("20 townships × 2 villages", 20, 2),
        ("20 townships × 5 villages", 20, 5),
        ("40 townships × 5 villages", 40, 5),
    ];
    for (name, townships, villages) in shapes {
        let first = table(townships, villages, 0x9e37_79b9_7f4a_7c15, 0);
        let mut hidden = Vec::new();
        let runs = if first.len() > 300 { 1 } else { 5 };
        let once = median(runs, || hidden = suppress_after(&[], &first).hidden);
        // Corrections: the same table with other counts in some leaves gets new ids where values moved.
        let mut second = table(townships, villages, 0x2545_f491_4f6c_dd1d, 100_000);
        for (old, new) in first.iter().zip(second.iter_mut()) {
            if old.amount == new.amount {
                new.value = old.value;
            }
        }
        let history = [Release {
            cells: first.clone(),
            hidden: hidden.clone(),
        }];
        let again = median(runs, || {
            suppress_after(&history, &second);
        });
        use std::io::Write;
        println!(
            "| {name} | {} | {} | {:.1} ms | {:.1} ms |",
            first.len(),
            hidden.iter().filter(|h| **h).count(),
            once.as_secs_f64() * 1000.0,
            again.as_secs_f64() * 1000.0
        );
        let _ = std::io::stdout().flush();
    }
}
