//! Small-cell suppression for restricted indicators read by departments other than the owner.
//!
//! The input is the whole published table of one indicator and one year (every region, sex, age group and
//! residence), so the pattern does not depend on what a query asked for: two different queries of the
//! same data hide the same cells, and no combination of answers reveals more than one answer does.
//!
//! 1. Primary suppression: a cell whose count is below [`THRESHOLD`] (or unknown) is hidden.
//! 2. Complementary suppression: the table's additive relations (a total equals the sum of its parts:
//!    `_T = M + F`, `_T = U + R`, `_T = Σ` age groups, parent region `= Σ` child regions) form a linear
//!    system. A hidden cell is *recoverable* when it is determined by that system given the visible cells,
//!    i.e. when its unit vector lies in the row space of the system restricted to hidden cells. While some
//!    hidden cell is recoverable, the smallest visible cell sharing a relation with it is hidden too.

use crate::vocabulary::{AGE_PARTITION, TOTAL};
use std::collections::HashMap;

/// Counts below this are hidden.
pub const THRESHOLD: f64 = 5.0;

/// One cell of a table to protect.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub region: i32,
    /// The parent region, so that a parent's cell can be recognised as the sum of its children's.
    pub parent: Option<i32>,
    pub sex: String,
    pub age: String,
    pub residence: String,
    /// The count (or a rate's numerator); `None` when unknown, which is hidden as a precaution.
    pub amount: Option<f64>,
}

/// A linear relation `Σ coefficient·cell = 0` between cells, given as (cell index, coefficient).
pub type Relation = Vec<(usize, f64)>;

/// Which cells to hide: `true` at the index of every hidden cell.
pub fn suppress(cells: &[Cell]) -> Vec<bool> {
    let relations = additive_relations(cells);
    let mut hidden: Vec<bool> = cells
        .iter()
        .map(|c| c.amount.is_none_or(|a| a < THRESHOLD))
        .collect();
    if !hidden.iter().any(|h| *h) {
        return hidden;
    }
    // Each round hides one more cell, so this ends after at most `cells.len()` rounds.
    while let Some(exposed) = recoverable_cells(&relations, &hidden).first().copied() {
        let Some(next) = complement_for(exposed, cells, &relations, &hidden) else {
            break;
        };
        hidden[next] = true;
    }
    hidden
}

/// The relations "total = sum of parts" that hold in the table along every dimension and the region tree.
pub fn additive_relations(cells: &[Cell]) -> Vec<Relation> {
    let index: HashMap<(i32, &str, &str, &str), usize> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                (
                    c.region,
                    c.sex.as_str(),
                    c.age.as_str(),
                    c.residence.as_str(),
                ),
                i,
            )
        })
        .collect();
    // Along each dimension, a cell is either its group's total or one of its parts; the group is the
    // region and the other two dimensions' codes.
    type Group<'a> = (u8, i32, &'a str, &'a str);
    let mut groups: HashMap<Group, (Option<usize>, Vec<usize>)> = HashMap::new();
    for (i, c) in cells.iter().enumerate() {
        let (sex, age, res) = (c.sex.as_str(), c.age.as_str(), c.residence.as_str());
        let memberships = [
            (0, sex == TOTAL, sex == "M" || sex == "F", age, res),
            (1, res == TOTAL, res == "U" || res == "R", sex, age),
            (2, age == TOTAL, AGE_PARTITION.contains(&age), sex, res),
        ];
        for (dim, is_total, is_part, a, b) in memberships {
            if is_total || is_part {
                let entry = groups.entry((dim, c.region, a, b)).or_default();
                if is_total {
                    entry.0 = Some(i);
                } else {
                    entry.1.push(i);
                }
            }
        }
    }
    let mut relations: Vec<Relation> = groups
        .into_values()
        .filter_map(|(total, parts)| {
            let total = total?;
            (!parts.is_empty()).then(|| relation(total, &parts))
        })
        .collect();
    // The region tree: a parent's cell is the sum of its children's cells with the same disaggregation.
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, c) in cells.iter().enumerate() {
        if let Some(parent) = c.parent {
            let key = (parent, c.sex.as_str(), c.age.as_str(), c.residence.as_str());
            if let Some(&p) = index.get(&key) {
                children.entry(p).or_default().push(i);
            }
        }
    }
    let mut parents: Vec<_> = children.into_iter().collect();
    parents.sort();
    relations.extend(parents.iter().map(|(p, parts)| relation(*p, parts)));
    relations.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    relations
}

fn relation(total: usize, parts: &[usize]) -> Relation {
    let mut r: Relation = vec![(total, 1.0)];
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    r.extend(parts.into_iter().map(|p| (p, -1.0)));
    r
}

/// Hidden cells that the relations determine from the visible cells, in index order.
pub fn recoverable_cells(relations: &[Relation], hidden: &[bool]) -> Vec<usize> {
    let unknowns: Vec<usize> = (0..hidden.len()).filter(|&i| hidden[i]).collect();
    let column: HashMap<usize, usize> = unknowns.iter().enumerate().map(|(c, &i)| (i, c)).collect();
    let mut rows: Vec<Vec<f64>> = relations
        .iter()
        .filter(|r| r.iter().any(|(i, _)| hidden[*i]))
        .map(|r| {
            let mut row = vec![0.0; unknowns.len()];
            for (i, coefficient) in r {
                if let Some(&c) = column.get(i) {
                    row[c] += coefficient;
                }
            }
            row
        })
        .collect();
    let pivots = reduce_to_echelon(&mut rows);
    // A hidden cell is determined iff its column is a pivot whose row has no other non-zero entry.
    let mut found: Vec<usize> = pivots
        .into_iter()
        .filter(|&(row, col)| {
            rows[row]
                .iter()
                .enumerate()
                .all(|(c, v)| c == col || v.abs() < EPSILON)
        })
        .map(|(_, col)| unknowns[col])
        .collect();
    found.sort_unstable();
    found
}

const EPSILON: f64 = 1e-9;

/// Gauss–Jordan elimination in place; returns the (row, column) of each pivot.
fn reduce_to_echelon(rows: &mut [Vec<f64>]) -> Vec<(usize, usize)> {
    let columns = rows.first().map_or(0, Vec::len);
    let mut pivots = Vec::new();
    let mut next_row = 0;
    for col in 0..columns {
        let Some(pivot) = (next_row..rows.len()).max_by(|&a, &b| {
            rows[a][col]
                .abs()
                .partial_cmp(&rows[b][col].abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        }) else {
            break;
        };
        if rows[pivot][col].abs() < EPSILON {
            continue;
        }
        rows.swap(next_row, pivot);
        let scale = rows[next_row][col];
        for v in rows[next_row].iter_mut() {
            *v /= scale;
        }
        let pivot_row = rows[next_row].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != next_row && row[col].abs() >= EPSILON {
                let factor = row[col];
                for (v, p) in row.iter_mut().zip(&pivot_row) {
                    *v -= factor * p;
                }
            }
        }
        pivots.push((next_row, col));
        next_row += 1;
    }
    pivots
}

/// The visible cell to hide next so that `exposed` stops being recoverable: the smallest visible cell that
/// shares a relation with it, or failing that the smallest visible cell of any relation with a hidden cell.
fn complement_for(
    exposed: usize,
    cells: &[Cell],
    relations: &[Relation],
    hidden: &[bool],
) -> Option<usize> {
    let smallest = |candidates: &mut dyn Iterator<Item = usize>| {
        candidates.filter(|&i| !hidden[i]).min_by(|&a, &b| {
            let key = |i: usize| cells[i].amount.unwrap_or(f64::INFINITY);
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.cmp(&b))
        })
    };
    let mut sharing = relations
        .iter()
        .filter(|r| r.iter().any(|(i, _)| *i == exposed))
        .flat_map(|r| r.iter().map(|(i, _)| *i));
    smallest(&mut sharing).or_else(|| {
        let mut any = relations
            .iter()
            .filter(|r| r.iter().any(|(i, _)| hidden[*i]))
            .flat_map(|r| r.iter().map(|(i, _)| *i));
        smallest(&mut any)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(region: i32, parent: Option<i32>, sex: &str, amount: f64) -> Cell {
        Cell {
            region,
            parent,
            sex: sex.into(),
            age: TOTAL.into(),
            residence: TOTAL.into(),
            amount: Some(amount),
        }
    }

    #[test]
    fn a_lone_small_part_forces_a_second_part_to_be_hidden() {
        // _T = 12, M = 3, F = 9: hiding M alone would leave M = 12 − 9, so F goes too; the total can stay.
        let cells = vec![
            cell(1, None, "_T", 12.0),
            cell(1, None, "M", 3.0),
            cell(1, None, "F", 9.0),
        ];
        assert_eq!(suppress(&cells), vec![false, true, true]);
    }

    #[test]
    fn tables_without_small_cells_are_untouched() {
        let cells = vec![
            cell(1, None, "_T", 20.0),
            cell(1, None, "M", 9.0),
            cell(1, None, "F", 11.0),
        ];
        assert_eq!(suppress(&cells), vec![false, false, false]);
    }

    #[test]
    fn a_small_township_is_protected_by_hiding_a_sibling() {
        let cells = vec![
            cell(1, None, "_T", 40.0),
            cell(2, Some(1), "_T", 2.0),
            cell(3, Some(1), "_T", 30.0),
            cell(4, Some(1), "_T", 8.0),
        ];
        assert_eq!(suppress(&cells), vec![false, true, false, true]);
    }
}
