//! `--preemptors`: the kernel's waits by victim group and stolen time by
//! (victim, preemptor) pair, ranked into a report.

use std::collections::HashMap;

use ebpftop_common::runqlat::{StolenKey, WaitTotal};

/// One group whose tasks waited, and who ran meanwhile.
#[derive(Clone, Debug, PartialEq)]
pub struct Victim {
    pub id: u64,
    pub wait_ns: u64,
    pub count: u64,
    /// The top preemptors, most stolen time first.
    pub preemptors: Vec<Preemptor>,
    /// Wait time no recorded run slice covered (the ring had wrapped, or
    /// the task migrated).
    pub unattributed_ns: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Preemptor {
    pub id: u64,
    pub stolen_ns: u64,
    /// `stolen_ns` as a share of the victim's wait, 0 to 1.
    pub share: f64,
}

/// Victims by total wait (largest first), each with its `top` preemptors.
pub fn rank(waits: &[(u64, WaitTotal)], stolen: &[(StolenKey, u64)], top: usize) -> Vec<Victim> {
    let mut by_victim: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
    for (k, ns) in stolen {
        if *ns > 0 {
            by_victim
                .entry(k.victim)
                .or_default()
                .push((k.preemptor, *ns));
        }
    }
    let mut victims: Vec<Victim> = waits
        .iter()
        .filter(|(_, w)| w.count > 0)
        .map(|&(id, w)| {
            let mut ps = by_victim.remove(&id).unwrap_or_default();
            ps.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let attributed: u64 = ps.iter().map(|p| p.1).sum();
            let share = |ns: u64| {
                if w.wait_ns == 0 {
                    0.0
                } else {
                    ns as f64 / w.wait_ns as f64
                }
            };
            Victim {
                id,
                wait_ns: w.wait_ns,
                count: w.count,
                preemptors: ps
                    .into_iter()
                    .take(top)
                    .map(|(p, ns)| Preemptor {
                        id: p,
                        stolen_ns: ns,
                        share: share(ns),
                    })
                    .collect(),
                unattributed_ns: w.wait_ns.saturating_sub(attributed),
            }
        })
        .collect();
    victims.sort_by(|a, b| b.wait_ns.cmp(&a.wait_ns).then(a.id.cmp(&b.id)));
    victims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(victim: u64, preemptor: u64) -> StolenKey {
        StolenKey { victim, preemptor }
    }

    #[test]
    fn ranks_victims_and_preemptors() {
        let waits = [
            (
                1,
                WaitTotal {
                    wait_ns: 100,
                    count: 4,
                },
            ),
            (
                2,
                WaitTotal {
                    wait_ns: 1000,
                    count: 2,
                },
            ),
            (
                3,
                WaitTotal {
                    wait_ns: 0,
                    count: 0,
                },
            ),
        ];
        let stolen = [
            (k(2, 7), 300),
            (k(2, 8), 600),
            (k(2, 9), 50),
            (k(1, 2), 90),
            (k(4, 1), 5),
        ];
        let v = rank(&waits, &stolen, 2);
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].id, v[0].wait_ns, v[0].count), (2, 1000, 2));
        let ids: Vec<u64> = v[0].preemptors.iter().map(|p| p.id).collect();
        assert_eq!(ids, [8, 7]);
        assert!((v[0].preemptors[0].share - 0.6).abs() < 1e-9);
        // Unattributed counts every preemptor, listed or not.
        assert_eq!(v[0].unattributed_ns, 50);
        assert_eq!((v[1].id, v[1].unattributed_ns), (1, 10));
    }
}
