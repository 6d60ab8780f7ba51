//! A/B experiments on a tour or an announcement: weighted arms, some of which
//! may be hold-outs (the user is assigned but shown nothing), and a goal event.
//! Assignment is a pure function of the object and the user, so every node and
//! every request puts a user in the same arm without storing anything.

use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    /// `control`, `a`, `short-copy`, …
    pub name: String,
    /// Relative share of users (1–1000).
    pub weight: u32,
    /// Users in a hold-out arm are counted but shown nothing.
    #[serde(default)]
    pub holdout: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub arms: Vec<Arm>,
    /// The tracked event that counts as a conversion.
    pub goal_event: String,
}

impl Experiment {
    pub fn check(&self, e: &mut ValidationErrors, path: &str) {
        if !(2..=10).contains(&self.arms.len()) {
            e.add(format!("{path}.arms"), "an experiment needs 2 to 10 arms");
        }
        if self.arms.iter().all(|a| a.holdout) {
            e.add(
                format!("{path}.arms"),
                "at least one arm must not be a hold-out",
            );
        }
        for (i, a) in self.arms.iter().enumerate() {
            let ok = !a.name.is_empty()
                && a.name.len() <= 50
                && a.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                e.add(
                    format!("{path}.arms[{i}].name"),
                    "must be 1 to 50 characters of a-z, 0-9, - and _",
                );
            }
            if !(1..=1000).contains(&a.weight) {
                e.add(
                    format!("{path}.arms[{i}].weight"),
                    "must be between 1 and 1000",
                );
            }
            if self.arms[..i].iter().any(|b| b.name == a.name) {
                e.add(format!("{path}.arms[{i}].name"), "arm names must be unique");
            }
        }
        if self.goal_event.trim().is_empty() || self.goal_event.len() > 100 {
            e.add(format!("{path}.goal_event"), "must be 1 to 100 characters");
        }
    }

    /// The arm this user is in: the same for the same object and user, forever,
    /// in proportion to the weights. `None` only for an experiment without arms.
    pub fn assign(&self, object_id: &str, user_id: &str) -> Option<&Arm> {
        let total: u64 = self.arms.iter().map(|a| u64::from(a.weight)).sum();
        if total == 0 {
            return None;
        }
        let digest = Sha256::new()
            .chain_update(object_id.as_bytes())
            .chain_update([0u8])
            .chain_update(user_id.as_bytes())
            .finalize();
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        let mut point = u64::from_be_bytes(head) % total;
        for a in &self.arms {
            let w = u64::from(a.weight);
            if point < w {
                return Some(a);
            }
            point -= w;
        }
        self.arms.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(weights: &[(u32, bool)]) -> Experiment {
        Experiment {
            arms: weights
                .iter()
                .enumerate()
                .map(|(i, (w, h))| Arm {
                    name: format!("arm{i}"),
                    weight: *w,
                    holdout: *h,
                })
                .collect(),
            goal_event: "upgraded".into(),
        }
    }

    #[test]
    fn assignment_is_stable_and_follows_weights() {
        let e = exp(&[(1, true), (3, false)]);
        let mut counts = [0u32; 2];
        for u in 0..20_000 {
            let user = format!("user-{u}");
            let a = e.assign("tour-1", &user).unwrap();
            assert_eq!(e.assign("tour-1", &user).unwrap(), a, "stable");
            counts[usize::from(a.name == "arm1")] += 1;
        }
        let share = f64::from(counts[1]) / 20_000.0;
        assert!((0.73..0.77).contains(&share), "3:1 split, got {share}");
    }

    #[test]
    fn different_objects_split_independently() {
        let e = exp(&[(1, false), (1, false)]);
        let same = (0..2000)
            .filter(|u| {
                let user = format!("u{u}");
                e.assign("a", &user).unwrap().name == e.assign("b", &user).unwrap().name
            })
            .count();
        assert!((850..1150).contains(&same), "{same}");
    }

    #[test]
    fn validation() {
        let mut errors = ValidationErrors::new();
        exp(&[(1, true)]).check(&mut errors, "experiment");
        assert!(errors.to_string().contains("2 to 10 arms"), "{errors}");
        let mut errors = ValidationErrors::new();
        exp(&[(1, true), (0, true)]).check(&mut errors, "experiment");
        let text = errors.to_string();
        assert!(
            text.contains("hold-out") && text.contains("weight"),
            "{text}"
        );
        let mut errors = ValidationErrors::new();
        exp(&[(1, true), (5, false)]).check(&mut errors, "experiment");
        assert!(errors.is_empty());
    }
}
