//! ebpftop, the dashboard: collectors turn the tools' kernel records into
//! [`model::Input`]s, [`state::Dashboard`] keeps what they add up to, and
//! [`views`] draws it as pure functions of that state and the [`ui::Ui`].
pub mod app;
pub mod bpf;
pub mod capture;
pub mod cli;
pub mod live;
pub mod model;
pub mod state;
pub mod ui;
pub mod views;
