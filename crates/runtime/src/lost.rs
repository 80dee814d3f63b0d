//! Lost-event accounting: the kernel programs count, per CPU and per
//! reason, every event they could not deliver; this sums them.

use aya::maps::{MapData, PerCpuArray};
use ebpftop_common::LostReason;

use crate::Error;

pub struct LostCounter {
    map: PerCpuArray<MapData, u64>,
    reported: [u64; LostReason::COUNT as usize],
}

impl LostCounter {
    pub fn new(map: PerCpuArray<MapData, u64>) -> Self {
        LostCounter {
            map,
            reported: [0; LostReason::COUNT as usize],
        }
    }

    /// Totals since load, per reason.
    pub fn totals(&self) -> Result<[u64; LostReason::COUNT as usize], Error> {
        let mut out = [0; LostReason::COUNT as usize];
        // An object built before the last reason was added has fewer slots.
        let slots = self.map.len();
        for reason in LostReason::ALL.into_iter().take(slots as usize) {
            let values = self
                .map
                .get(&(reason as u32), 0)
                .map_err(|e| Error::Map(format!("reading LOST: {e}")))?;
            out[reason as usize] = values.iter().sum();
        }
        Ok(out)
    }

    /// Losses not yet reported, per reason; marks them reported.
    pub fn take_new(&mut self) -> Result<Vec<(LostReason, u64)>, Error> {
        let totals = self.totals()?;
        let mut out = Vec::new();
        for reason in LostReason::ALL {
            let i = reason as usize;
            if totals[i] > self.reported[i] {
                out.push((reason, totals[i] - self.reported[i]));
                self.reported[i] = totals[i];
            }
        }
        Ok(out)
    }
}
