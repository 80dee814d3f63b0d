//! The one record model: every event a tool reports is a struct holding the
//! common fields plus its own, serialized as one JSON object per line and
//! drawn as one table row.
//!
//! JSON schema (one object per line):
//! - `event`: the record's kind (`open`, `exec`, ..., or `lost`);
//! - `ts_ns`: when it happened, nanoseconds since the Unix epoch;
//! - `pid`, `tid`, `comm`, `uid`, `cgroup_id`: the task that did it
//!   (`cgroup_id` is the v2 cgroup id, the inode of its directory);
//! - then the tool's own fields, described in its man page.
//!
//! Text from the kernel (comm, paths, arguments) is UTF-8 with each byte of
//! invalid UTF-8 written as `\xNN`. A `lost` record has `count` (events lost
//! since the previous one), `total` and `reason`.

use serde::Serialize;

use crate::{json_line::JsonLine, table::Row, text::Comm};

/// Fields every event carries.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct Common {
    pub ts_ns: u64,
    pub pid: u32,
    pub tid: u32,
    pub comm: Comm,
    pub uid: u32,
    pub cgroup_id: u64,
}

/// An event a tool reports.
pub trait Record: Serialize {
    /// The value of the JSON `event` field.
    const EVENT: &'static str;
    fn common(&self) -> &Common;
    /// Writes the tool's table cells, in the order of its columns.
    fn row(&self, row: &mut Row<'_>);
    /// Whether [`Record::json_fields`] writes the JSON line, for records
    /// on hot paths; by default serde writes the record.
    const DIRECT_JSON: bool = false;
    /// Writes the JSON fields after `event` directly (when
    /// [`Record::DIRECT_JSON`]): exactly what serde writes for the record
    /// (see [`crate::json_line`]).
    fn json_fields(&self, _line: &mut JsonLine<'_>) {}
}

/// The JSON line for a record: `event` first, then the record's fields.
#[derive(Serialize)]
pub struct Tagged<'a, R: Serialize> {
    pub event: &'static str,
    #[serde(flatten)]
    pub record: &'a R,
}

/// Events a tool could not deliver.
#[derive(Serialize)]
pub(crate) struct Lost<'a> {
    pub event: &'static str,
    pub ts_ns: u64,
    pub count: u64,
    pub total: u64,
    pub reason: &'a str,
}
