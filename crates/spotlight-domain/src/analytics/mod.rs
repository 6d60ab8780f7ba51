//! The arithmetic of analytics: ranges and buckets, medians, NPS, and confidence
//! intervals for conversion rates. The store sums rollups; this turns sums into
//! the figures the dashboard shows.

use crate::events::Grain;

pub mod report;

/// At most this many buckets in one series.
pub const MAX_POINTS: i64 = 2_000;

/// A half-open time range `[from, to)` in milliseconds, aligned to a grain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
    pub grain: Grain,
}

impl Range {
    /// Aligns `from` down and `to` up to the grain; refuses an empty, inverted or
    /// too long range.
    pub fn new(from: i64, to: i64, grain: Grain) -> Result<Range, &'static str> {
        if to <= from {
            return Err("to must be after from");
        }
        let out = "the range is out of bounds";
        let from = grain.checked_bucket(from).ok_or(out)?;
        let start_of_to = grain.checked_bucket(to).ok_or(out)?;
        let to = if start_of_to == to {
            to
        } else {
            start_of_to.checked_add(grain.millis()).ok_or(out)?
        };
        let span = to.checked_sub(from).ok_or(out)?;
        if span / grain.millis() > MAX_POINTS {
            return Err("the range holds more than 2000 buckets; use a coarser grain");
        }
        Ok(Range { from, to, grain })
    }

    /// Every bucket start in the range.
    pub fn buckets(&self) -> impl Iterator<Item = i64> + '_ {
        let step = self.grain.millis();
        (0..(self.to - self.from) / step).map(move |i| self.from + i * step)
    }

    /// The range in whole UTC days (for distinct-user counts, kept per day).
    pub fn days(&self) -> (i64, i64) {
        let from = Grain::Day.bucket(self.from);
        let to = Grain::Day.bucket(self.to - 1) + Grain::Day.millis();
        (from, to)
    }
}

/// The median of some values (the mean of the middle two for an even count).
pub fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    })
}

/// `part / whole`, or 0 for an empty whole.
pub fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The 95% Wilson score interval of a proportion `successes / trials`: honest for
/// small samples and rates near 0 or 1, unlike the normal approximation.
pub fn wilson(successes: u64, trials: u64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 0.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let n = trials as f64;
    let p = successes as f64 / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) + z * z / (4.0 * n)) / n).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The 95% interval of the difference of two proportions (`b − a`), normal
/// approximation: what an arm gains over the control.
pub fn difference(a: (u64, u64), b: (u64, u64)) -> Option<(f64, f64, f64)> {
    let (sa, na) = a;
    let (sb, nb) = b;
    if na == 0 || nb == 0 {
        return None;
    }
    let pa = sa as f64 / na as f64;
    let pb = sb as f64 / nb as f64;
    let se = (pa * (1.0 - pa) / na as f64 + pb * (1.0 - pb) / nb as f64).sqrt();
    let z = 1.959_963_984_540_054_f64;
    let d = pb - pa;
    Some((d, d - z * se, d + z * se))
}

/// Net Promoter Score from counts of scores 0–10: % promoters (9–10) minus %
/// detractors (0–6), from −100 to 100.
pub fn nps(counts: &[(i64, u64)]) -> Option<f64> {
    let total: u64 = counts
        .iter()
        .filter(|(s, _)| (0..=10).contains(s))
        .map(|(_, n)| n)
        .sum();
    if total == 0 {
        return None;
    }
    let promoters: u64 = counts
        .iter()
        .filter(|(s, _)| *s >= 9 && *s <= 10)
        .map(|(_, n)| n)
        .sum();
    let detractors: u64 = counts
        .iter()
        .filter(|(s, _)| (0..=6).contains(s))
        .map(|(_, n)| n)
        .sum();
    Some(100.0 * (promoters as f64 - detractors as f64) / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_ranges_are_refused_not_overflowed() {
        assert!(Range::new(0, i64::MAX, Grain::Day).is_err());
        assert!(Range::new(i64::MIN, 0, Grain::Hour).is_err());
        assert!(Range::new(i64::MIN, i64::MAX, Grain::Day).is_err());
    }

    const H: i64 = 3_600_000;
    const D: i64 = 86_400_000;

    #[test]
    fn ranges_align_and_are_bounded() {
        let r = Range::new(D + 5, 3 * D - 5, Grain::Day).unwrap();
        assert_eq!((r.from, r.to), (D, 3 * D));
        assert_eq!(r.buckets().collect::<Vec<_>>(), vec![D, 2 * D]);
        let r = Range::new(H, 3 * H, Grain::Hour).unwrap();
        assert_eq!(r.buckets().count(), 2);
        assert_eq!(r.days(), (0, D));
        assert!(Range::new(5, 5, Grain::Hour).is_err());
        assert!(Range::new(0, 2_001 * H, Grain::Hour).is_err());
        assert!(Range::new(0, 2_000 * H, Grain::Hour).is_ok());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
    }

    #[test]
    fn wilson_matches_known_values() {
        // 10 of 100: 0.0552 – 0.1744 (Wilson, 95%).
        let (lo, hi) = wilson(10, 100);
        assert!(
            (lo - 0.0552).abs() < 1e-3 && (hi - 0.1744).abs() < 1e-3,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 10);
        assert!(lo == 0.0 && (hi - 0.2775).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(0, 0), (0.0, 0.0));
    }

    #[test]
    fn differences() {
        let (d, lo, hi) = difference((10, 100), (20, 100)).unwrap();
        assert!(
            (d - 0.1).abs() < 1e-9 && lo < d && d < hi && lo > 0.0,
            "{lo} {hi}"
        );
        assert_eq!(difference((0, 0), (1, 2)), None);
    }

    #[test]
    fn nps_scores() {
        // 2 promoters, 1 passive, 1 detractor of 4: (2 − 1) / 4 = 25.
        assert_eq!(nps(&[(10, 1), (9, 1), (8, 1), (3, 1)]), Some(25.0));
        assert_eq!(nps(&[]), None);
        assert_eq!(nps(&[(0, 2)]), Some(-100.0));
    }
}
