//! Property tests for small-cell suppression: for random tables (regions × sexes), no hidden cell can be
//! worked out from the visible cells and totals. The check here is independent of the algorithm: it
//! builds the table's equations itself and tests, by rank, whether each hidden cell is determined.

use childhub::auth::suppression::{Cell, THRESHOLD, suppress};
use proptest::prelude::*;

/// A table: a city and `townships`, each split by sex, with parts drawn at random and totals summed.
fn table(parts: &[(f64, f64)]) -> Vec<Cell> {
    let cell = |region: i32, parent: Option<i32>, sex: &str, amount: f64| Cell {
        region,
        parent,
        sex: sex.into(),
        age: "_T".into(),
        residence: "_T".into(),
        amount: Some(amount),
    };
    let (mut city_m, mut city_f) = (0.0, 0.0);
    let mut cells = Vec::new();
    for (i, (m, f)) in parts.iter().enumerate() {
        let region = i as i32 + 2;
        cells.push(cell(region, Some(1), "_T", m + f));
        cells.push(cell(region, Some(1), "M", *m));
        cells.push(cell(region, Some(1), "F", *f));
        city_m += m;
        city_f += f;
    }
    cells.push(cell(1, None, "_T", city_m + city_f));
    cells.push(cell(1, None, "M", city_m));
    cells.push(cell(1, None, "F", city_f));
    cells
}

/// The equations of the table, written out from its structure: for each region `_T − M − F = 0`, and for
/// each sex `city − Σ townships = 0`.
fn equations(cells: &[Cell]) -> Vec<Vec<f64>> {
    let index = |region: i32, sex: &str| {
        cells
            .iter()
            .position(|c| c.region == region && c.sex == sex)
    };
    let regions: Vec<i32> = {
        let mut r: Vec<i32> = cells.iter().map(|c| c.region).collect();
        r.dedup();
        r.sort_unstable();
        r.dedup();
        r
    };
    let mut rows = Vec::new();
    for &region in &regions {
        let mut row = vec![0.0; cells.len()];
        row[index(region, "_T").expect("_T")] = 1.0;
        row[index(region, "M").expect("M")] = -1.0;
        row[index(region, "F").expect("F")] = -1.0;
        rows.push(row);
    }
    for sex in ["_T", "M", "F"] {
        let mut row = vec![0.0; cells.len()];
        row[index(1, sex).expect("city")] = 1.0;
        for &region in regions.iter().filter(|&&r| r != 1) {
            row[index(region, sex).expect("township")] = -1.0;
        }
        rows.push(row);
    }
    rows
}

fn rank(mut rows: Vec<Vec<f64>>) -> usize {
    let columns = rows.first().map_or(0, Vec::len);
    let mut rank = 0;
    for col in 0..columns {
        let Some(pivot) = (rank..rows.len()).find(|&r| rows[r][col].abs() > 1e-9) else {
            continue;
        };
        rows.swap(rank, pivot);
        for r in 0..rows.len() {
            if r != rank && rows[r][col].abs() > 1e-9 {
                let factor = rows[r][col] / rows[rank][col];
                let pivot_row = rows[rank].clone();
                for (v, p) in rows[r].iter_mut().zip(pivot_row) {
                    *v -= factor * p;
                }
            }
        }
        rank += 1;
    }
    rank
}

/// Whether hidden cell `i` is determined by the equations once the visible cells are known: it is iff
/// removing its column from the hidden-cell system lowers the rank.
fn determined(equations: &[Vec<f64>], hidden: &[bool], i: usize) -> bool {
    let restrict = |keep: &dyn Fn(usize) -> bool| -> Vec<Vec<f64>> {
        equations
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .filter(|(c, _)| keep(*c))
                    .map(|(_, v)| *v)
                    .collect()
            })
            .collect()
    };
    let with = rank(restrict(&|c| hidden[c]));
    let without = rank(restrict(&|c| hidden[c] && c != i));
    without < with
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_hidden_cell_can_be_recovered(parts in prop::collection::vec((0u32..25, 0u32..25), 2..7)) {
        let parts: Vec<(f64, f64)> = parts.into_iter().map(|(m, f)| (f64::from(m), f64::from(f))).collect();
        let cells = table(&parts);
        let hidden = suppress(&cells);
        let eqs = equations(&cells);
        for (i, c) in cells.iter().enumerate() {
            if c.amount.is_some_and(|a| a < THRESHOLD) {
                prop_assert!(hidden[i], "a count below {THRESHOLD} is shown: {c:?}");
            }
            if hidden[i] {
                prop_assert!(!determined(&eqs, &hidden, i), "hidden cell {c:?} can be worked out; hidden = {hidden:?}");
            }
        }
    }

    #[test]
    fn tables_without_small_counts_are_shown_whole(parts in prop::collection::vec((5u32..40, 5u32..40), 2..7)) {
        let parts: Vec<(f64, f64)> = parts.into_iter().map(|(m, f)| (f64::from(m), f64::from(f))).collect();
        let cells = table(&parts);
        prop_assert!(suppress(&cells).iter().all(|hidden| !hidden), "nothing to protect, nothing hidden");
    }
}
