//! `--verbose` output: `tool: message` lines on stderr.

use std::sync::OnceLock;

struct StderrLogger {
    tool: &'static str,
}

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        // Libraries' debug chatter (aya's relocation log) is not ours to
        // show; their warnings are.
        let ours = m.target().starts_with("ebpftop") || m.target().starts_with(self.tool);
        ours || m.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{}: {}", self.tool, record.args());
        }
    }

    fn flush(&self) {}
}

pub fn init(tool: &'static str, verbose: bool) {
    static LOGGER: OnceLock<StderrLogger> = OnceLock::new();
    let logger = LOGGER.get_or_init(|| StderrLogger { tool });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(if verbose {
            log::LevelFilter::Debug
        } else {
            log::LevelFilter::Warn
        });
    }
}
