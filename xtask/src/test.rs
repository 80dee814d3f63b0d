//! `cargo xtask test`: everything the test suite needs, then the suite.
//! The integration tests load BPF programs, so the test binaries run as
//! root (through `sudo -E` when xtask itself is not root).

use std::process::Command;

use anyhow::{Context, Result};

use crate::{is_root, project_root, run};

/// Debian packages the integration tests compare against or use.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("/usr/sbin/opensnoop", "libbpf-tools"),
    ("/usr/sbin/bpftool", "bpftool"),
    ("/usr/bin/setpriv", "util-linux"),
    // tcpretrans's test drops packets inside a network namespace of its own.
    ("/usr/sbin/iptables", "iptables"),
    ("/usr/sbin/ip", "iproute2"),
    // ebpftop's end-to-end test drives the dashboard in a terminal.
    ("/usr/bin/tmux", "tmux"),
];

pub fn run_tests(extra: &[String]) -> Result<()> {
    install_missing_packages()?;
    let root = project_root();
    run(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "--workspace",
        "--bins",
    ]))
    .context("building the tools")?;
    let mut test = Command::new("cargo");
    test.current_dir(&root).args(["test", "--workspace"]);
    if !is_root() {
        test.env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER", "sudo -E")
            .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER", "sudo -E");
    }
    test.args(extra);
    run(&mut test)
}

fn install_missing_packages() -> Result<()> {
    let missing: Vec<&str> = TEST_PACKAGES
        .iter()
        .filter(|(path, _)| !std::path::Path::new(path).exists())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut c = Command::new(all[0]);
        c.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut c)
    };
    apt(&["update", "-q"])?;
    let mut install = vec!["install", "-y", "-q"];
    install.extend_from_slice(&missing);
    apt(&install).context("installing the test dependencies")
}
