//! The demo data set: a synthetic city with 20 townships and streets and observations for 2020–2025 of
//! every indicator, with believable levels and trends. Everything here is made up and labelled so
//! (`DEMO` codes, 示范 names); it is deterministic, drawn from a fixed-seed hash of each cell's key.
//!
//! The numbers are chosen so that the demo shows what the hub is for: some targets met, some off track,
//! three townships below the 97% vaccination floor, a retention rate that dips below its maintained level
//! once, a township merged into its neighbour in 2024, and a missing year here and there.

use crate::seed::catalogue::TargetRow;
use crate::vocabulary::{RegionLevel, Residence, TOTAL, TargetScope, Unit};

/// First and last year of demo observations.
pub const YEARS: std::ops::RangeInclusive<i32> = 2020..=2025;

/// The code of the demo city; every demo region code starts with it.
pub const CITY: &str = "DEMO";

/// A region of the demo tree.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionSeed {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: RegionLevel,
    pub residence: Residence,
    pub parent: Option<String>,
    pub valid_from: Option<i32>,
    pub valid_to: Option<i32>,
}

/// One demo observation, by codes.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservationSeed {
    pub indicator: String,
    pub region: String,
    pub year: i32,
    pub sex: &'static str,
    pub age_group: &'static str,
    pub residence: &'static str,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// The township-level region that is merged into its neighbour in 2024 (its history stays).
pub const MERGED_TOWNSHIP: &str = "DEMO-T15";
/// Townships whose vaccination coverage stays below the 97% floor.
pub const LOW_VACCINATION: [&str; 3] = ["DEMO-T03", "DEMO-T08", "DEMO-T12"];

const STREETS: usize = 5;
const TOWNSHIPS: usize = 15;

/// The demo region tree: the city, 5 urban streets, 15 rural townships (one merged in 2024), and two
/// villages or communities under each.
pub fn regions() -> Vec<RegionSeed> {
    let mut out = vec![RegionSeed {
        code: CITY.into(),
        name_zh: "示范市（演示数据）".into(),
        name_en: "Demo City (synthetic data)".into(),
        level: RegionLevel::City,
        residence: Residence::Total,
        parent: None,
        valid_from: None,
        valid_to: None,
    }];
    let townships = (1..=STREETS)
        .map(|i| {
            (
                format!("{CITY}-S{i:02}"),
                format!("示范街道{i:02}"),
                format!("Demo Street {i:02}"),
                Residence::Urban,
            )
        })
        .chain((1..=TOWNSHIPS).map(|i| {
            (
                format!("{CITY}-T{i:02}"),
                format!("示范镇{i:02}"),
                format!("Demo Township {i:02}"),
                Residence::Rural,
            )
        }));
    for (code, name_zh, name_en, residence) in townships {
        let merged = code == MERGED_TOWNSHIP;
        for v in 1..=2 {
            let (zh, en) = if residence == Residence::Urban {
                ("社区", "Community")
            } else {
                ("村", "Village")
            };
            out.push(RegionSeed {
                code: format!("{code}-V{v}"),
                name_zh: format!("{name_zh}示范{zh}{v}"),
                name_en: format!("{name_en} {en} {v}"),
                level: RegionLevel::Village,
                residence,
                parent: Some(code.clone()),
                valid_from: None,
                valid_to: merged.then_some(2023),
            });
        }
        out.push(RegionSeed {
            code,
            name_zh,
            name_en,
            level: RegionLevel::Township,
            residence,
            parent: Some(CITY.into()),
            valid_from: None,
            valid_to: merged.then_some(2023),
        });
    }
    // Parents before children, so that loading in order can resolve each parent code.
    out.sort_by_key(|r| r.level.rank());
    out
}

/// How an indicator behaves in the demo: its city value in 2020, its yearly change, how far townships
/// spread around the city value, and how much higher boys' values are than girls'.
struct Profile {
    code: &'static str,
    base: f64,
    slope: f64,
    spread: f64,
    sex_gap: f64,
    /// Years without any value.
    missing: &'static [i32],
}

const fn p(code: &'static str, base: f64, slope: f64, spread: f64, sex_gap: f64) -> Profile {
    Profile {
        code,
        base,
        slope,
        spread,
        sex_gap,
        missing: &[],
    }
}

const PROFILES: &[Profile] = &[
    Profile {
        missing: &[2021],
        ..p("HEA-01", 18.0, 1.45, 2.0, 0.0)
    },
    p("HEA-02", 3.6, -0.11, 0.4, 0.3),
    p("HEA-03", 5.9, -0.12, 0.6, 0.4),
    p("HEA-04", 7.6, -0.3, 0.8, 0.5),
    p("HEA-05", 2.6, -0.08, 0.0, 0.0),
    p("HEA-06", 98.2, 0.05, 0.5, 0.0),
    p("HEA-07", 12.4, -0.35, 1.2, 0.3),
    p("HEA-08", 4.3, -0.1, 0.6, 0.3),
    p("HEA-09", 14.8, 0.45, 1.5, 1.5),
    p("HEA-10", 40.5, -0.35, 2.5, -1.5),
    p("HEA-11", 64.0, 0.3, 3.0, -2.0),
    p("HEA-12", 78.0, -0.7, 3.0, -2.0),
    p("HEA-13", 88.0, 1.1, 2.0, 0.0),
    p("HEA-14", 1.8, 0.3, 0.5, 0.0),
    p("HEA-15", 0.72, 0.03, 0.1, 0.0),
    p("HEA-16", 2.5, 0.07, 0.3, 0.0),
    Profile {
        missing: &[2020],
        ..p("HEA-17", 45.0, 1.6, 3.0, -1.0)
    },
    p("HEA-18", 92.0, 0.6, 2.0, 0.0),
    p("HEA-19", 88.0, 0.7, 2.0, 0.0),
    p("HEA-20", 89.0, 0.6, 2.0, 0.0),
    p("HEA-21", 50.0, 1.6, 4.0, 0.0),
    p("SAF-01", 12.0, -0.3, 2.0, 2.0),
    p("SAF-02", 3.5, -0.12, 0.8, 0.8),
    p("SAF-03", 2.8, 0.05, 0.6, 0.6),
    p("SAF-04", 40.0, -1.6, 0.0, 0.0),
    p("EDU-01", 88.0, 1.0, 2.5, 0.0),
    p("EDU-02", 99.5, 0.0, 0.2, 0.0),
    p("EDU-03", 88.0, 0.8, 3.0, -1.0),
    Profile {
        missing: &[2025],
        ..p("EDU-04", 90.0, 0.8, 2.0, 0.0)
    },
    p("WEL-01", 800.0, 120.0, 0.0, 0.0),
    p("WEL-02", 70.0, 4.0, 6.0, 0.0),
    p("WEL-03", 100.0, 0.0, 0.0, 0.0),
    p("WEL-04", 80.0, 1.6, 3.0, 0.0),
    p("WEL-05", 0.0, 0.0, 0.0, 0.0),
    p("FAM-01", 80.0, 2.4, 4.0, 0.0),
    p("FAM-02", 60.0, 2.4, 5.0, 0.0),
    p("ENV-01", 90.0, 1.2, 3.0, 0.0),
    p("ENV-02", 70.0, 3.0, 5.0, 0.0),
    p("LAW-01", 62.0, -3.0, 0.0, 0.0),
    p("LAW-02", 5.2, -0.15, 0.0, 0.0),
    p("LAW-03", 120.0, 8.0, 0.0, 0.0),
];

/// A deterministic pseudo-random number in [0, 1) for a key (FNV-1a, then SplitMix64).
fn noise(key: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Symmetric noise in [−1, 1).
fn jitter(key: &str) -> f64 {
    noise(key) * 2.0 - 1.0
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (value * f).round() / f
}

/// Splits a whole number over weights so that the parts are whole and add up exactly (largest remainder).
fn apportion(total: f64, weights: &[f64]) -> Vec<f64> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| total * w / sum).collect();
    let mut parts: Vec<f64> = exact.iter().map(|e| e.floor()).collect();
    let mut remainder = (total - parts.iter().sum::<f64>()).round() as usize;
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .partial_cmp(&(exact[a] - exact[a].floor()))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(weights.len() * 2) {
        if remainder == 0 {
            break;
        }
        parts[i] += 1.0;
        remainder -= 1;
    }
    parts
}

/// The demo observations of every indicator of the catalogue.
pub fn observations(targets: &[TargetRow], regions: &[RegionSeed]) -> Vec<ObservationSeed> {
    let townships: Vec<&RegionSeed> = regions
        .iter()
        .filter(|r| r.level == RegionLevel::Township)
        .collect();
    let mut out = Vec::new();
    for row in targets {
        let Some(profile) = PROFILES.iter().find(|p| p.code == row.code) else {
            continue;
        };
        let unit = row.unit;
        for year in YEARS {
            if profile.missing.contains(&year) {
                continue;
            }
            let active: Vec<&RegionSeed> = townships
                .iter()
                .copied()
                .filter(|t| t.valid_to.is_none_or(|to| year <= to))
                .collect();
            out.extend(indicator_year(row, profile, unit, year, &active));
        }
    }
    out
}

fn indicator_year(
    row: &TargetRow,
    profile: &Profile,
    unit: Unit,
    year: i32,
    townships: &[&RegionSeed],
) -> Vec<ObservationSeed> {
    let code = row.code.as_str();
    let t = f64::from(year - 2020);
    let (lo, hi) = unit.range();
    let decimals = unit.default_decimals();
    let obs =
        |region: &str, sex: &'static str, age: &'static str, res: &'static str, value: f64| {
            ObservationSeed {
                indicator: code.into(),
                region: region.into(),
                year,
                sex,
                age_group: age,
                residence: res,
                value: round_to(value.clamp(lo, hi), decimals),
                numerator: None,
                denominator: None,
            }
        };
    let mut out = Vec::new();
    let city_value = match code {
        "WEL-05" => f64::from(u8::from(year >= 2023)),
        // Retention is to be maintained at 99.41% or more; 2022 dips below it.
        "EDU-02" => [99.5, 99.45, 99.32, 99.46, 99.5, 99.48][(year - 2020) as usize],
        _ => {
            profile.base
                + profile.slope * t
                + jitter(&format!("{code}/{year}")) * profile.spread * 0.05
        }
    };
    let city_value = round_to(city_value, decimals);
    let (by_sex, by_age) = match code {
        "LAW-01" | "SAF-04" => (true, true),
        _ => (profile.sex_gap != 0.0, false),
    };

    if unit.is_additive() {
        // Counts: townships add up to the city, boys and girls to the total, age groups likewise.
        let weights: Vec<f64> = townships
            .iter()
            .map(|r| 0.5 + noise(&format!("weight/{}", r.code)) * 1.5)
            .collect();
        let parts = apportion(city_value, &weights);
        let regions = std::iter::once((crate::seed::demo::CITY.to_owned(), city_value))
            .chain(townships.iter().map(|r| r.code.clone()).zip(parts));
        for (region, total) in regions {
            out.push(obs(&region, TOTAL, TOTAL, TOTAL, total));
            if by_sex {
                let boys = apportion(total, &[0.62, 0.38]);
                out.push(obs(&region, "M", TOTAL, TOTAL, boys[0]));
                out.push(obs(&region, "F", TOTAL, TOTAL, boys[1]));
            }
            if by_age {
                let (groups, weights): (&[&'static str], &[f64]) = if code == "LAW-01" {
                    (&["Y12T14", "Y15T17"], &[0.3, 0.7])
                } else {
                    (
                        &["Y0T5", "Y6T11", "Y12T14", "Y15T17"],
                        &[0.2, 0.3, 0.25, 0.25],
                    )
                };
                for (age, part) in groups.iter().zip(apportion(total, weights)) {
                    out.push(obs(&region, TOTAL, age, TOTAL, part));
                }
            }
        }
        return out;
    }

    if code == "LAW-02" {
        // The share of minors among offenders, with the counts it is made of (restricted like LAW-01).
        let offenders = (1200.0 - 20.0 * t).round();
        let minors = (offenders * city_value / 100.0).round();
        let mut o = obs(CITY, TOTAL, TOTAL, TOTAL, minors / offenders * 100.0);
        o.numerator = Some(minors);
        o.denominator = Some(offenders);
        out.push(o);
        for (sex, share) in [("M", 0.8), ("F", 0.2)] {
            let (m, d) = ((minors * share).round(), (offenders * share).round());
            let mut o = obs(CITY, sex, TOTAL, TOTAL, m / d * 100.0);
            o.numerator = Some(m);
            o.denominator = Some(d);
            out.push(o);
        }
        return out;
    }

    out.push(obs(CITY, TOTAL, TOTAL, TOTAL, city_value));
    let gap = profile.sex_gap;
    if by_sex {
        out.push(obs(CITY, "M", TOTAL, TOTAL, city_value + gap / 2.0));
        out.push(obs(CITY, "F", TOTAL, TOTAL, city_value - gap / 2.0));
    }
    let direction = f64::from(row.target_kind.direction());
    // Urban and rural series: towns do better than villages, by a gap that narrows over time.
    let rural_gap = profile.spread.max(city_value.abs() * 0.04) * (1.0 - t * 0.06);
    let scoped = matches!(row.scope, TargetScope::Urban | TargetScope::Rural);
    if scoped || matches!(code, "HEA-02" | "HEA-03" | "HEA-04") {
        out.push(obs(
            CITY,
            TOTAL,
            TOTAL,
            "U",
            city_value + direction * rural_gap * 0.6,
        ));
        out.push(obs(
            CITY,
            TOTAL,
            TOTAL,
            "R",
            city_value - direction * rural_gap * 0.4,
        ));
    }
    if matches!(code, "HEA-05" | "WEL-03") {
        return out;
    }
    for township in townships {
        if scoped && (row.scope == TargetScope::Urban) != (township.residence == Residence::Urban) {
            continue;
        }
        let key = format!("{code}/{}/{year}", township.code);
        let place = jitter(&format!("{code}/{}", township.code)) * profile.spread;
        let urban = if township.residence == Residence::Urban {
            direction * profile.spread * 0.3
        } else {
            0.0
        };
        let value = if code == "HEA-06" {
            vaccination(&township.code, t, &key)
        } else {
            city_value + place + urban + jitter(&key) * profile.spread * 0.2
        };
        out.push(obs(&township.code, TOTAL, TOTAL, TOTAL, value));
        if by_sex {
            out.push(obs(&township.code, "M", TOTAL, TOTAL, value + gap / 2.0));
            out.push(obs(&township.code, "F", TOTAL, TOTAL, value - gap / 2.0));
        }
    }
    out
}

/// Vaccination coverage: most townships between 97.5% and 99.6%, three below the 97% floor.
fn vaccination(township: &str, t: f64, key: &str) -> f64 {
    if LOW_VACCINATION.contains(&township) {
        95.4 + noise(&format!("vac/{township}")) * 1.0 + t * 0.08 + jitter(key) * 0.1
    } else {
        97.6 + noise(&format!("vac/{township}")) * 1.8 + t * 0.03 + jitter(key) * 0.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportioned_parts_add_up_to_the_total() {
        let parts = apportion(61.0, &[1.0, 2.0, 0.7, 1.3]);
        assert_eq!(parts.iter().sum::<f64>(), 61.0);
        assert!(parts.iter().all(|p| p.fract() == 0.0));
    }

    #[test]
    fn noise_is_deterministic_and_in_range() {
        assert_eq!(noise("HEA-03/2024"), noise("HEA-03/2024"));
        assert!((0.0..1.0).contains(&noise("x")));
    }
}
