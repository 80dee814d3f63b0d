//! `cargo xtask ebpf`: rebuild the kernel objects in `ebpf/objects/` from
//! source with the pinned nightly and a bpf-linker built against that
//! nightly's LLVM, installing what is missing.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

use crate::{cmd_output, project_root, run};

/// The nightly the committed objects were built with. Another compiler
/// makes other bytes, and CI would call the objects stale.
const PINNED_RUSTC: &str = "rustc 1.97.0-nightly (e50aa6fba 2026-05-19)";
/// Toolchain names to look for it under, and to install it as.
const TOOLCHAINS: &[&str] = &["nightly", "nightly-2026-05-20"];
const BPF_LINKER_VERSION: &str = "0.13.0";

#[derive(clap::Args)]
pub struct EbpfArgs {
    /// Build with whatever `nightly` is installed, even if it is not the
    /// pinned one (the objects will differ from the committed ones).
    #[arg(long)]
    pub any_nightly: bool,
    /// Rebuild only these tools' objects (default: every `ebpf/src/bin/*.rs`).
    pub tools: Vec<String>,
}

pub fn run_ebpf(args: EbpfArgs) -> Result<()> {
    let toolchain = find_toolchain(args.any_nightly)?;
    ensure_rust_src(&toolchain)?;
    let linker_dir = ensure_bpf_linker(&toolchain)?;
    let root = project_root();
    let src_ebpf = root.join("ebpf");
    // Held until the objects are copied out: two builds at once (from two
    // checkouts) would otherwise mirror different sources into the stage.
    let _lock = lock_stage()?;
    let ebpf = stage(&root)?;
    let path = format!(
        "{}:{}",
        linker_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut build = Command::new("cargo");
    build
        .current_dir(&ebpf)
        .env("PATH", &path)
        // The host workspace's target dir must not leak in.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args([&format!("+{toolchain}"), "build", "--release"]);
    let all = ebpf_bins(&src_ebpf)?;
    let tools = if args.tools.is_empty() {
        build.arg("--bins");
        all
    } else {
        for t in &args.tools {
            if !all.contains(t) {
                bail!("no kernel half for {t}: ebpf/src/bin/{t}.rs does not exist");
            }
            build.args(["--bin", t]);
        }
        args.tools
    };
    run(&mut build).context("building the eBPF objects")?;
    let out_dir = src_ebpf.join("objects");
    fs::create_dir_all(&out_dir)?;
    for tool in tools {
        let built = ebpf.join("target/bpfel-unknown-none/release").join(&tool);
        let dest = out_dir.join(format!("{tool}.bpf.o"));
        fs::copy(&built, &dest)
            .with_context(|| format!("copying {} to {}", built.display(), dest.display()))?;
        println!(
            "xtask: {}",
            dest.strip_prefix(&root).unwrap_or(&dest).display()
        );
    }
    Ok(())
}

/// Where the kernel half is built. Cargo's crate hash, which names the
/// objects' local symbols, changes with the checkout's path, so every
/// checkout builds in this one place to produce the same bytes.
const STAGE: &str = "/tmp/ebpftop-ebpf-build";

/// Mirrors what the kernel half builds from (the root manifest, for
/// workspace inheritance, `ebpf/` and `crates/common/`) into [`STAGE`],
/// writing only files that changed so cargo's incremental state holds.
fn stage(root: &Path) -> Result<PathBuf> {
    let stage = Path::new(STAGE);
    sync_file(&root.join("Cargo.toml"), &stage.join("Cargo.toml"))?;
    sync_dir(
        &root.join("ebpf"),
        &stage.join("ebpf"),
        &["target", "objects"],
    )?;
    sync_dir(
        &root.join("crates/common"),
        &stage.join("crates/common"),
        &["target"],
    )?;
    Ok(stage.join("ebpf"))
}

/// An exclusive lock on the stage, released when the file is closed.
fn lock_stage() -> Result<fs::File> {
    fs::create_dir_all(STAGE)?;
    let path = Path::new(STAGE).join(".lock");
    let file = fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("locking {}", path.display()));
    }
    Ok(file)
}

fn sync_file(from: &Path, to: &Path) -> Result<()> {
    let data = fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    if fs::read(to).ok().as_deref() != Some(&data[..]) {
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(to, &data).with_context(|| format!("writing {}", to.display()))?;
    }
    Ok(())
}

/// Makes `to` hold exactly `from`'s files, except the names in `skip`.
fn sync_dir(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    fs::create_dir_all(to)?;
    let mut names = Vec::new();
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == **s) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            sync_dir(&src, &dst, &[])?;
        } else {
            sync_file(&src, &dst)?;
        }
        names.push(name);
    }
    for entry in fs::read_dir(to)? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == **s) || names.contains(&name) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The tools with a kernel half: `ebpf/src/bin/*.rs`.
fn ebpf_bins(ebpf: &Path) -> Result<Vec<String>> {
    let mut bins = Vec::new();
    for entry in fs::read_dir(ebpf.join("src/bin"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rs") {
            bins.push(stem.to_string());
        }
    }
    bins.sort();
    Ok(bins)
}

fn rustc_version(toolchain: &str) -> Option<String> {
    cmd_output(Command::new("rustc").args([&format!("+{toolchain}"), "-V"]))
        .ok()
        .map(|s| s.trim().to_string())
}

fn find_toolchain(any: bool) -> Result<String> {
    for tc in TOOLCHAINS {
        match rustc_version(tc) {
            Some(v) if v == PINNED_RUSTC => return Ok(tc.to_string()),
            Some(v) if any && tc.starts_with("nightly") => {
                eprintln!("xtask: using {v}, not the pinned {PINNED_RUSTC}");
                return Ok(tc.to_string());
            }
            _ => {}
        }
    }
    let install = TOOLCHAINS[1];
    eprintln!("xtask: installing toolchain {install} ({PINNED_RUSTC})");
    run(Command::new("rustup").args([
        "toolchain",
        "install",
        install,
        "--profile",
        "minimal",
        "--component",
        "rust-src",
    ]))
    .with_context(|| format!("installing {install}; the eBPF objects need {PINNED_RUSTC}"))?;
    match rustc_version(install) {
        Some(v) if v == PINNED_RUSTC => Ok(install.to_string()),
        v => bail!("{install} is {v:?}, not {PINNED_RUSTC}; try --any-nightly"),
    }
}

fn sysroot(toolchain: &str) -> Result<PathBuf> {
    let s =
        cmd_output(Command::new("rustc").args([&format!("+{toolchain}"), "--print", "sysroot"]))?;
    Ok(PathBuf::from(s.trim()))
}

fn ensure_rust_src(toolchain: &str) -> Result<()> {
    if sysroot(toolchain)?
        .join("lib/rustlib/src/rust/library/core")
        .is_dir()
    {
        return Ok(());
    }
    eprintln!("xtask: adding rust-src to {toolchain}");
    run(Command::new("rustup").args(["component", "add", "rust-src", "--toolchain", toolchain]))
}

/// bpf-linker must use the same LLVM as the rustc that emits the bitcode.
/// The nightly ships its LLVM as one shared library; a prefix whose lib/
/// links to it lets bpf-linker's build find it (it has no llvm-config).
fn ensure_bpf_linker(toolchain: &str) -> Result<PathBuf> {
    let lib_dir = sysroot(toolchain)?.join("lib");
    let llvm_lib = fs::read_dir(&lib_dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("libLLVM.so."))
        .with_context(|| format!("no libLLVM.so.* in {}", lib_dir.display()))?;
    // libLLVM.so.22.1-rust-1.97.0-nightly -> 22
    let major: String = llvm_lib["libLLVM.so.".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let home = std::env::var("HOME").context("HOME is not set")?;
    let cache = Path::new(&home).join(".cache/ebpftop");
    let tag = llvm_lib.trim_start_matches("libLLVM.so.");
    let prefix = cache.join(format!("llvm-{tag}"));
    let root = cache.join(format!("bpf-linker-{BPF_LINKER_VERSION}-llvm-{tag}"));
    let bin = root.join("bin");
    if bin.join("bpf-linker").exists() {
        return Ok(bin);
    }
    fs::create_dir_all(prefix.join("lib"))?;
    for name in ["libLLVM.so", llvm_lib.as_str()] {
        let link = prefix.join("lib").join(name);
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(lib_dir.join(&llvm_lib), &link)?;
    }
    eprintln!(
        "xtask: building bpf-linker {BPF_LINKER_VERSION} against LLVM {major} (about a minute)"
    );
    run(Command::new("cargo")
        .env("LLVM_PREFIX", &prefix)
        .env_remove("CARGO_TARGET_DIR")
        .args([
            "install",
            "bpf-linker",
            "--version",
            BPF_LINKER_VERSION,
            "--no-default-features",
            "--features",
            &format!("llvm-{major}"),
            "--root",
        ])
        .arg(&root))
    .context("installing bpf-linker")?;
    Ok(bin)
}
