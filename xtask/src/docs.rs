//! `cargo xtask docs`: man pages and shell completions, generated from each
//! tool's clap definition into `man/` and `completions/`.

use std::{fs, path::Path};

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::project_root;

/// Every tool's command line. A new tool adds one line here.
fn commands() -> Vec<clap::Command> {
    vec![
        opensnoop::cli::Args::command(),
        statsnoop::cli::Args::command(),
        mountsnoop::cli::Args::command(),
        execsnoop::cli::Args::command(),
        tcpconnect::cli::Args::command(),
        tcpconnlat::cli::Args::command(),
        tcplife::cli::Args::command(),
        tcpaccept::cli::Args::command(),
        tcpstates::cli::Args::command(),
        tcpretrans::cli::Args::command(),
        gethostlatency::cli::Args::command(),
        exitsnoop::cli::Args::command(),
        sigsnoop::cli::Args::command(),
        syscount::cli::Args::command(),
        syslat::cli::Args::command(),
        runqlat::cli::Args::command(),
        runqslower::cli::Args::command(),
        biolatency::cli::Args::command(),
        biosnoop::cli::Args::command(),
        cpudist::cli::Args::command(),
        oomkill::cli::Args::command(),
        hardirqs::cli::Args::command(),
        softirqs::cli::Args::command(),
        ebpftop::cli::Args::command(),
        // New tools: one line each, above this comment.
    ]
}

pub fn run_docs() -> Result<()> {
    let root = project_root();
    for cmd in commands() {
        let name = cmd.get_name().to_string();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .section("8")
            .manual("ebpftop")
            .render(&mut page)?;
        write(&root, &format!("man/{name}.8"), &page)?;
        for (shell, file) in [
            (Shell::Bash, format!("completions/bash/{name}")),
            (Shell::Zsh, format!("completions/zsh/_{name}")),
            (Shell::Fish, format!("completions/fish/{name}.fish")),
        ] {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), &name, &mut out);
            write(&root, &file, &out)?;
        }
    }
    Ok(())
}

fn write(root: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("has a parent"))?;
    if fs::read(&path).ok().as_deref() != Some(bytes) {
        fs::write(&path, bytes).with_context(|| format!("writing {rel}"))?;
        println!("xtask: wrote {rel}");
    }
    Ok(())
}
