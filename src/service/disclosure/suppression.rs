//! Small-cell suppression for restricted indicators read by departments other than the owner.
//!
//! The input is the whole published table of one indicator and one year (every region, sex, age group and
//! residence), so the pattern does not depend on what a query asked for: two different queries of the
//! same data hide the same cells, and no combination of answers reveals more than one answer does.
//!
//! **The guarantee** (the protection-interval standard of statistical offices' tools such as τ-ARGUS
//! and sdcTable): for every hidden small count (below [`THRESHOLD`], zeros included), the values that
//! stay consistent with everything a reader can know — every visible cell of this release *and of every
//! earlier release of the table*, the table's additive relations (a total is the sum of its parts), and
//! that counts are never negative — span an interval at least [`PROTECTION_WIDTH`] wide (which, counts
//! being ≥ 0, also contains a value ≥ 5). The interval of each hidden small count is computed by linear
//! programming (a maximisation and a minimisation), so pinning a cell through non-negativity ("the total
//! equals the two visible groups, so the hidden ones are 0") is caught, not only exact linear solving.
//!
//! 1. Primary suppression: a cell whose count is below [`THRESHOLD`] (or unknown) is hidden.
//! 2. Complementary suppression: while some hidden small count's interval is too narrow, the smallest
//!    visible cell that shares a relation with it (failing that, with any hidden cell linked to it) is
//!    hidden too. Cells a reader already saw in an earlier release cannot be taken back, so they are never
//!    chosen: they stay known in the model.
//! 3. Complements that end up pinned to one value by everything visible (the totals and non-negativity
//!    give them away) protect nothing: they are published again, which changes no interval.
//!
//! Corrections: a cell is identified by its *value* (the stored revision), not its position. A revision
//! that stays in force across releases is one unknown of the model in both, so a reader who subtracts an
//! earlier release from a later one is modelled exactly (the differencing attack).

use crate::vocabulary::{AGE_PARTITION, TOTAL};
use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolverModel, Variable, microlp,
    variable,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Counts below this are hidden.
pub const THRESHOLD: f64 = 5.0;

/// The least width of the interval a reader can narrow a hidden small count down to.
pub const PROTECTION_WIDTH: f64 = 5.0;

/// Numerical slack of the solver's answers.
const EPSILON: f64 = 1e-6;

/// One cell of a table to protect.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// The stored value this cell shows (an observation revision): the same id in two releases means the
    /// same value, which a reader may assume.
    pub value: i64,
    pub region: i32,
    /// The parent region, so that a parent's cell can be recognised as the sum of its children's.
    pub parent: Option<i32>,
    pub sex: String,
    pub age: String,
    pub residence: String,
    /// The count (or a rate's numerator); `None` when unknown, which is hidden as a precaution.
    pub amount: Option<f64>,
}

impl Cell {
    /// Whether this cell must be hidden on its own account (a small or unknown count).
    pub fn is_sensitive(&self) -> bool {
        self.amount.is_none_or(|a| a < THRESHOLD)
    }
}

/// A table as readers got it: its cells and which of them were hidden.
#[derive(Clone, Debug, PartialEq)]
pub struct Release {
    pub cells: Vec<Cell>,
    pub hidden: Vec<bool>,
}

/// A linear relation between the cells of one table: `total = Σ parts` when `exact`, `total ≥ Σ parts`
/// otherwise (some parts were not reported). Indexes point into the table's cells.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Relation {
    pub total: usize,
    pub parts: Vec<usize>,
    pub exact: bool,
}

/// Which cells of a new release to hide, with no earlier release.
pub fn suppress(cells: &[Cell]) -> Vec<bool> {
    suppress_after(&[], cells).hidden
}

/// The pattern of a new release and the values it could not protect (empty unless earlier releases
/// already gave them away, which no hiding now can undo).
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub hidden: Vec<bool>,
    pub unprotected: Vec<i64>,
}

/// Which cells of a new release `cells` to hide, given the `history` of earlier releases of the same
/// table that readers may have kept.
pub fn suppress_after(history: &[Release], cells: &[Cell]) -> Pattern {
    // Runs to the end: `None` comes only from a stop that is never asked for.
    suppress_after_unless(history, cells, &|| false).unwrap_or_else(|| Pattern {
        hidden: vec![true; cells.len()],
        unprotected: Vec::new(),
    })
}

/// [`suppress_after`], giving up (`None`) between two solver rounds once `stop` says so: the asker is
/// gone and the half-made pattern must not be used.
pub fn suppress_after_unless(
    history: &[Release],
    cells: &[Cell],
    stop: &dyn Fn() -> bool,
) -> Option<Pattern> {
    let mut hidden: Vec<bool> = cells.iter().map(Cell::is_sensitive).collect();
    let mut model = Model::new(history, cells);
    model.set_current(cells, &hidden);
    // Values readers saw before cannot be hidden again.
    let seen_before = model.known_from_history.clone();
    let mut unprotected = BTreeSet::new();
    // Each round hides one more cell or gives up on one value, so this ends.
    // Checking `stop` before each cell's two solves keeps a stopped pattern from holding its core.
    while let Some(exposed) = model
        .sensitive_unknowns()
        .into_iter()
        .find(|v| stop() || (!unprotected.contains(v) && !model.is_protected(*v)))
    {
        if stop() {
            return None;
        }
        match model.complement_for(exposed, cells, &hidden, &seen_before) {
            Some(next) => {
                hidden[next] = true;
                model.forget(cells[next].value);
            }
            None => {
                unprotected.insert(exposed);
            }
        }
    }
    // A complement that everything visible pins to one value protects nothing and only hides
    // information: publish it. Showing a value readers can already work out exactly adds nothing to
    // what they know, so every interval — the primary cells' included — stays as it was.
    for (i, cell) in cells.iter().enumerate() {
        if stop() {
            return None;
        }
        if hidden[i] && !cell.is_sensitive() && !seen_before.contains(&cell.value) {
            let (lo, hi) = model.interval(cell.value);
            if hi.is_finite() && hi - lo <= EPSILON * hi.abs().max(1.0) {
                hidden[i] = false;
                model.learn(cell.value);
            }
        }
    }
    Some(Pattern {
        hidden,
        unprotected: unprotected.into_iter().collect(),
    })
}

/// The interval each hidden value of the releases can take, given everything visible in any of them:
/// `(min, max)`, with `max = ∞` when nothing bounds it. This is what the guarantee is stated on.
pub fn intervals(releases: &[Release]) -> BTreeMap<i64, (f64, f64)> {
    let Some((last, earlier)) = releases.split_last() else {
        return BTreeMap::new();
    };
    let mut model = Model::new(earlier, &last.cells);
    model.set_current(&last.cells, &last.hidden);
    model
        .unknowns()
        .into_iter()
        .map(|v| (v, model.interval(v)))
        .collect()
}

/// The relations "total = sum of parts" of a table along every dimension and the region tree, each
/// checked against the amounts: exact where the parts make up the total and add up, "at least" where
/// parts are missing or only contained in the total, dropped where the parts exceed the total
/// (inconsistent data supports no inference).
pub fn additive_relations(cells: &[Cell]) -> Vec<Relation> {
    let mut candidates = candidate_relations(cells);
    candidates.sort();
    candidates.dedup();
    candidates
        .into_iter()
        .filter_map(|(total, parts, complete)| {
            let amounts: Option<Vec<f64>> = std::iter::once(total)
                .chain(parts.iter().copied())
                .map(|i| cells[i].amount)
                .collect();
            let exact = match amounts {
                // An unknown amount: assume the relation holds as a reader would.
                None => complete,
                Some(a) => {
                    let sum: f64 = a[1..].iter().sum();
                    if complete && (a[0] - sum).abs() <= EPSILON {
                        true
                    } else if a[0] >= sum - EPSILON {
                        false
                    } else {
                        return None;
                    }
                }
            };
            Some(Relation {
                total,
                parts,
                exact,
            })
        })
        .collect()
}

/// Age groups as inclusive year ranges; `_T` spans every age.
fn age_span(code: &str) -> Option<(u8, u8)> {
    if code == TOTAL {
        return Some((0, u8::MAX));
    }
    let rest = code.strip_prefix('Y')?;
    match rest.split_once('T') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => rest.parse().ok().map(|a| (a, a)),
    }
}

/// Sets of disjoint groups from `groups` whose ages run exactly from `start` to `end` (at most a few: the
/// code list is short). `_T` ends at the last age any group covers.
fn exact_covers(
    groups: &[(usize, (u8, u8))],
    start: u8,
    end: u8,
    chosen: &mut Vec<usize>,
    out: &mut Vec<Vec<usize>>,
) {
    let last = groups.iter().map(|(_, (_, b))| *b).max().unwrap_or(0);
    let end = end.min(last);
    if out.len() >= 16 || groups.is_empty() {
        return;
    }
    for &(i, (a, b)) in groups {
        if a != start || b > end {
            continue;
        }
        chosen.push(i);
        if b == end {
            if chosen.len() > 1 {
                out.push(chosen.clone());
            }
        } else {
            exact_covers(groups, b + 1, end, chosen, out);
        }
        chosen.pop();
    }
}

/// (total, parts, complete) triples implied by the table's structure, before checking the amounts:
/// `complete` when the parts make up the whole total (a reader may assume equality), otherwise the total
/// is only known to be at least their sum.
fn candidate_relations(cells: &[Cell]) -> Vec<(usize, Vec<usize>, bool)> {
    let index: HashMap<(i32, &str, &str, &str), usize> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let key = (
                c.region,
                c.sex.as_str(),
                c.age.as_str(),
                c.residence.as_str(),
            );
            (key, i)
        })
        .collect();
    let mut out = Vec::new();
    // Sex and residence: `_T = M + F`, `_T = U + R` with the other dimensions fixed.
    for c in cells {
        let (region, sex, age, res) = (
            c.region,
            c.sex.as_str(),
            c.age.as_str(),
            c.residence.as_str(),
        );
        if sex == TOTAL {
            let parts: Vec<usize> = ["M", "F"]
                .iter()
                .filter_map(|s| index.get(&(region, *s, age, res)).copied())
                .collect();
            if let (Some(&t), false) = (index.get(&(region, sex, age, res)), parts.is_empty()) {
                let complete = parts.len() == 2;
                out.push((t, parts, complete));
            }
        }
        if res == TOTAL {
            let parts: Vec<usize> = ["U", "R"]
                .iter()
                .filter_map(|r| index.get(&(region, sex, age, *r)).copied())
                .collect();
            if let (Some(&t), false) = (index.get(&(region, sex, age, res)), parts.is_empty()) {
                let complete = parts.len() == 2;
                out.push((t, parts, complete));
            }
        }
    }
    // Age: a group is the sum of any disjoint groups that cover it exactly (0–5 = 0–2 + 3–5), and at
    // least any group it contains.
    // (region, sex, residence) → the age groups present, with their spans.
    type AgeGroups = Vec<(usize, (u8, u8))>;
    let mut by_rest: BTreeMap<(i32, &str, &str), AgeGroups> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        if let Some(span) = age_span(&c.age) {
            by_rest
                .entry((c.region, c.sex.as_str(), c.residence.as_str()))
                .or_default()
                .push((i, span));
        }
    }
    for groups in by_rest.values() {
        for &(total, span) in groups {
            let inside: Vec<(usize, (u8, u8))> = groups
                .iter()
                .copied()
                .filter(|&(i, (a, b))| {
                    i != total
                        && a >= span.0
                        && b <= span.1
                        && (span == (0, u8::MAX) || (a, b) != span)
                })
                .collect();
            for &(part, _) in &inside {
                out.push((total, vec![part], false));
            }
            // The plan's partition groups inside the span: equal to their sum when they cover it or the
            // amounts say so, at least their sum otherwise.
            let partition: Vec<usize> = inside
                .iter()
                .filter(|(i, _)| AGE_PARTITION.contains(&cells[*i].age.as_str()))
                .map(|(i, _)| *i)
                .collect();
            if partition.len() > 1 {
                out.push((total, partition, false));
            }
            let mut covers = Vec::new();
            exact_covers(&inside, span.0, span.1, &mut Vec::new(), &mut covers);
            out.extend(covers.into_iter().map(|parts| (total, parts, true)));
        }
    }
    // The region tree: a parent's cell is the sum of its children's cells with the same disaggregation.
    let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        if let Some(parent) = c.parent {
            let key = (parent, c.sex.as_str(), c.age.as_str(), c.residence.as_str());
            if let Some(&p) = index.get(&key) {
                children.entry(p).or_default().push(i);
            }
        }
    }
    // Whether every child reported is not known here; the amounts decide (equal sums: equality).
    out.extend(children.into_iter().map(|(p, kids)| (p, kids, true)));
    for (_, parts, _) in out.iter_mut() {
        parts.sort_unstable();
        parts.dedup();
    }
    out
}

/// A relation over values rather than cells: `Σ coefficient·value (= or ≥) 0`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ValueRelation {
    /// (value id, +1 for the total or −1 for a part)
    terms: Vec<(i64, i8)>,
    exact: bool,
}

/// The reader's knowledge: relations between values over all releases, the values seen, and the amounts.
struct Model {
    relations: Vec<ValueRelation>,
    amounts: HashMap<i64, Option<f64>>,
    known_from_history: BTreeSet<i64>,
    /// Values seen in any release, the current one included.
    known: BTreeSet<i64>,
    /// Values that are small counts somewhere (they need protecting).
    sensitive: BTreeSet<i64>,
    /// Relations each value appears in.
    uses: HashMap<i64, Vec<usize>>,
    /// Intervals computed since the known set last changed.
    cache: std::cell::RefCell<HashMap<i64, (f64, f64)>>,
    /// Upper bounds computed alone (an unprotected cell is told by its upper bound only).
    upper: std::cell::RefCell<HashMap<i64, f64>>,
}

fn value_relations(cells: &[Cell]) -> Vec<ValueRelation> {
    additive_relations(cells)
        .into_iter()
        .map(|r| {
            let mut terms = vec![(cells[r.total].value, 1)];
            terms.extend(r.parts.iter().map(|&p| (cells[p].value, -1)));
            ValueRelation {
                terms,
                exact: r.exact,
            }
        })
        .collect()
}

impl Model {
    fn new(history: &[Release], current: &[Cell]) -> Self {
        let mut relations: BTreeSet<ValueRelation> = BTreeSet::new();
        let mut amounts = HashMap::new();
        let mut known_from_history = BTreeSet::new();
        let mut sensitive = BTreeSet::new();
        for release in history {
            relations.extend(value_relations(&release.cells));
            for (cell, hidden) in release.cells.iter().zip(&release.hidden) {
                amounts.insert(cell.value, cell.amount);
                if !hidden {
                    known_from_history.insert(cell.value);
                }
                if cell.is_sensitive() {
                    sensitive.insert(cell.value);
                }
            }
        }
        relations.extend(value_relations(current));
        for cell in current {
            amounts.insert(cell.value, cell.amount);
            if cell.is_sensitive() {
                sensitive.insert(cell.value);
            }
        }
        let relations: Vec<ValueRelation> = relations.into_iter().collect();
        let mut uses: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, r) in relations.iter().enumerate() {
            for (v, _) in &r.terms {
                uses.entry(*v).or_default().push(i);
            }
        }
        Model {
            relations,
            amounts,
            known: known_from_history.clone(),
            known_from_history,
            sensitive,
            uses,
            cache: Default::default(),
            upper: Default::default(),
        }
    }

    /// Takes the current release's visible cells into the known values.
    fn set_current(&mut self, cells: &[Cell], hidden: &[bool]) {
        self.known = self.known_from_history.clone();
        self.known.extend(
            cells
                .iter()
                .zip(hidden)
                .filter(|(_, h)| !**h)
                .map(|(c, _)| c.value),
        );
        self.cache.borrow_mut().clear();
        self.upper.borrow_mut().clear();
    }

    /// Hides a value of the current release: the intervals of the values now linked to it change.
    fn forget(&mut self, value: i64) {
        if self.known_from_history.contains(&value) || !self.known.remove(&value) {
            return;
        }
        let (linked, _) = self.component(value);
        let mut cache = self.cache.borrow_mut();
        let mut upper = self.upper.borrow_mut();
        for v in linked {
            cache.remove(&v);
            upper.remove(&v);
        }
    }

    /// Shows a value readers can already work out exactly: the intervals cached stay right (the set of
    /// consistent tables is the same), only the components shrink.
    fn learn(&mut self, value: i64) {
        self.known.insert(value);
    }

    fn is_known(&self, value: i64) -> bool {
        self.known.contains(&value)
    }

    fn unknowns(&self) -> Vec<i64> {
        self.amounts
            .keys()
            .copied()
            .filter(|v| !self.is_known(*v))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Hidden values that need protecting, in a fixed order.
    fn sensitive_unknowns(&self) -> Vec<i64> {
        self.sensitive
            .iter()
            .copied()
            .filter(|v| !self.is_known(*v))
            .collect()
    }

    fn is_protected(&self, value: i64) -> bool {
        // Counts are ≥ 0, so an upper bound below the width (or the threshold) fails without the lower
        // bound: half the solves for the cells that still need a complement.
        let hi = self.upper_bound(value);
        if hi < PROTECTION_WIDTH - EPSILON || hi < THRESHOLD - EPSILON {
            return false;
        }
        let (lo, hi) = self.interval(value);
        hi - lo >= PROTECTION_WIDTH - EPSILON && hi >= THRESHOLD - EPSILON
    }

    /// The greatest value `value` can take (solved alone, or read from a full interval).
    fn upper_bound(&self, value: i64) -> f64 {
        if self.is_known(value) {
            return self.amounts.get(&value).copied().flatten().unwrap_or(0.0);
        }
        if let Some((_, hi)) = self.cache.borrow().get(&value) {
            return *hi;
        }
        if let Some(hi) = self.upper.borrow().get(&value) {
            return *hi;
        }
        let (values, relations) = self.component(value);
        let hi = self.solve(value, &values, &relations, true);
        self.upper.borrow_mut().insert(value, hi);
        hi
    }

    /// The unknown values linked to `value` through relations with other unknowns.
    fn component(&self, value: i64) -> (BTreeSet<i64>, BTreeSet<usize>) {
        let mut values = BTreeSet::from([value]);
        let mut relations = BTreeSet::new();
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            for &r in self.uses.get(&v).map(Vec::as_slice).unwrap_or(&[]) {
                if relations.insert(r) {
                    for (w, _) in &self.relations[r].terms {
                        if !self.is_known(*w) && values.insert(*w) {
                            stack.push(*w);
                        }
                    }
                }
            }
        }
        (values, relations)
    }

    /// The least and greatest value `value` can take given the known values (solved over its component).
    fn interval(&self, value: i64) -> (f64, f64) {
        if self.is_known(value) {
            let a = self.amounts.get(&value).copied().flatten().unwrap_or(0.0);
            return (a, a);
        }
        if let Some(found) = self.cache.borrow().get(&value) {
            return *found;
        }
        let (values, relations) = self.component(value);
        let known_upper = self.upper.borrow().get(&value).copied();
        let found = (
            self.solve(value, &values, &relations, false),
            known_upper.unwrap_or_else(|| self.solve(value, &values, &relations, true)),
        );
        // Every unknown of a component shares its system, but each needs its own objective.
        self.cache.borrow_mut().insert(value, found);
        found
    }

    fn solve(
        &self,
        value: i64,
        values: &BTreeSet<i64>,
        relations: &BTreeSet<usize>,
        maximise: bool,
    ) -> f64 {
        let mut problem = ProblemVariables::new();
        let vars: HashMap<i64, Variable> = values
            .iter()
            .map(|v| (*v, problem.add(variable().min(0.0))))
            .collect();
        let objective: Expression = vars[&value].into();
        let unsolved = if maximise {
            problem.maximise(objective)
        } else {
            problem.minimise(objective)
        };
        let mut lp = unsolved.using(microlp);
        for &r in relations {
            let relation = &self.relations[r];
            let mut expression = Expression::with_capacity(relation.terms.len());
            let mut constant = 0.0;
            for (v, coefficient) in &relation.terms {
                let c = f64::from(*coefficient);
                match vars.get(v) {
                    Some(var) => expression.add_mul(c, *var),
                    None => constant += c * self.amounts.get(v).copied().flatten().unwrap_or(0.0),
                }
            }
            let expression = expression + constant;
            lp = if relation.exact {
                lp.with(expression.eq(0.0))
            } else {
                lp.with(expression.geq(0.0))
            };
        }
        match lp.solve() {
            Ok(solution) => solution.value(vars[&value]),
            Err(ResolutionError::Unbounded) if maximise => f64::INFINITY,
            // Infeasible (inconsistent data) or a solver failure: report no room at all, so that more
            // cells are hidden rather than fewer.
            Err(_) => {
                if maximise {
                    0.0
                } else {
                    f64::INFINITY
                }
            }
        }
    }

    /// The visible cell of the current release to hide next so that `exposed` gains room: the smallest
    /// one sharing a relation with it, else the smallest one sharing a relation with a hidden value linked
    /// to it. Values seen in earlier releases are never chosen: hiding them again gives no room.
    fn complement_for(
        &self,
        exposed: i64,
        cells: &[Cell],
        hidden: &[bool],
        seen_before: &BTreeSet<i64>,
    ) -> Option<usize> {
        let position: HashMap<i64, usize> = cells
            .iter()
            .enumerate()
            .filter(|(i, c)| !hidden[*i] && !seen_before.contains(&c.value))
            .map(|(i, c)| (c.value, i))
            .collect();
        let smallest = |relations: &mut dyn Iterator<Item = usize>| {
            relations
                .flat_map(|r| self.relations[r].terms.iter().map(|(v, _)| *v))
                .filter_map(|v| position.get(&v).copied())
                .min_by(|&a, &b| {
                    let key = |i: usize| cells[i].amount.unwrap_or(f64::INFINITY);
                    key(a).total_cmp(&key(b)).then(a.cmp(&b))
                })
        };
        let direct = self.uses.get(&exposed).cloned().unwrap_or_default();
        smallest(&mut direct.into_iter()).or_else(|| {
            let (_, linked) = self.component(exposed);
            smallest(&mut linked.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(value: i64, region: i32, parent: Option<i32>, sex: &str, amount: f64) -> Cell {
        Cell {
            value,
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
            cell(1, 1, None, "_T", 12.0),
            cell(2, 1, None, "M", 3.0),
            cell(3, 1, None, "F", 9.0),
        ];
        assert_eq!(suppress(&cells), vec![false, true, true]);
    }

    #[test]
    fn tables_without_small_cells_are_untouched() {
        let cells = vec![
            cell(1, 1, None, "_T", 20.0),
            cell(2, 1, None, "M", 9.0),
            cell(3, 1, None, "F", 11.0),
        ];
        assert_eq!(suppress(&cells), vec![false, false, false]);
    }

    #[test]
    fn a_small_township_is_protected_by_hiding_a_sibling() {
        let cells = vec![
            cell(1, 1, None, "_T", 40.0),
            cell(2, 2, Some(1), "_T", 2.0),
            cell(3, 3, Some(1), "_T", 30.0),
            cell(4, 4, Some(1), "_T", 8.0),
        ];
        assert_eq!(suppress(&cells), vec![false, true, false, true]);
    }

    #[test]
    fn non_negativity_cannot_pin_hidden_zeros() {
        // _T = 0 + 0 + 7 + 6 (age groups). Exact algebra leaves Y0T5 and Y6T11 undetermined when both are
        // hidden (only their sum is known: 0), but counts are ≥ 0, so both are pinned at 0. The LP sees
        // that and hides more until each has room.
        let age = |value, code: &str, amount| Cell {
            age: code.into(),
            ..cell(value, 1, None, "_T", amount)
        };
        let cells = vec![
            age(1, "_T", 13.0),
            age(2, "Y0T5", 0.0),
            age(3, "Y6T11", 0.0),
            age(4, "Y12T14", 7.0),
            age(5, "Y15T17", 6.0),
        ];
        let hidden = suppress(&cells);
        let found = intervals(&[Release {
            cells: cells.clone(),
            hidden: hidden.clone(),
        }]);
        for v in [2, 3] {
            let (lo, hi) = found[&v];
            assert!(
                hi - lo >= PROTECTION_WIDTH,
                "value {v}: {lo}..{hi}, hidden {hidden:?}"
            );
        }
        // The smallest visible group (6) gives them room: 0 ≤ each ≤ 6.
        assert_eq!(hidden, vec![false, true, true, false, true]);
    }

    #[test]
    fn a_correction_does_not_reveal_the_earlier_value_by_difference() {
        // Release 1: city 20 = 3 + 17 (+ a third township of 0 reported later). The small 3 is hidden with
        // its sibling. Release 2: the 3 is corrected to 5 (a new revision), the city to 22; the sibling's
        // revision is unchanged. Showing the sibling now (17) would give away the 3 of release 1.
        let first = vec![
            cell(1, 1, None, "_T", 20.0),
            cell(2, 2, Some(1), "_T", 3.0),
            cell(3, 3, Some(1), "_T", 17.0),
        ];
        let hidden = suppress(&first);
        assert_eq!(hidden, vec![false, true, true]);
        let history = [Release {
            cells: first,
            hidden,
        }];
        let second = vec![
            cell(10, 1, None, "_T", 22.0),
            cell(11, 2, Some(1), "_T", 5.0),
            cell(3, 3, Some(1), "_T", 17.0),
        ];
        let pattern = suppress_after(&history, &second);
        assert!(pattern.unprotected.is_empty());
        let mut releases = history.to_vec();
        releases.push(Release {
            cells: second,
            hidden: pattern.hidden.clone(),
        });
        let (lo, hi) = intervals(&releases)[&2];
        assert!(
            hi - lo >= PROTECTION_WIDTH,
            "the 3 of release 1 lies in {lo}..{hi}"
        );
    }
}
