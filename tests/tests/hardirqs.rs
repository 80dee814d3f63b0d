//! hardirqs against the real kernel: O_DIRECT reads of a file on a
//! virtio disk raise the disk's queue IRQ, and the tool's counts agree
//! exactly with the kernel's own count of `irq_handler_entry` hits for
//! that IRQ (perf counting events, no BPF), less the runs it reports lost.

use std::{collections::HashMap, os::unix::fs::MetadataExt};

use ebpftop_common::LostReason;
use ebpftop_tests::{
    Finished, TempDir, Tracer, Workload, require_root, serial, tracepoint_count::TracepointCount,
};
use serde_json::Value;

/// An 8 MiB file written through to the disk under `dir` (the block
/// device itself cannot be opened here: EPERM even for root), and the
/// name prefix of that disk's IRQs in /proc/interrupts (`virtio1-`).
fn file_on_disk(dir: &TempDir) -> (String, String) {
    let path = dir.path().join("blocks");
    let mut f = std::fs::File::create(&path).unwrap();
    std::io::Write::write_all(&mut f, &vec![7u8; 8 << 20]).unwrap();
    f.sync_all().unwrap();
    let dev = f.metadata().unwrap().dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let sys = std::fs::canonicalize(format!("/sys/dev/block/{major}:{minor}")).unwrap();
    // A partition's directory is inside its disk's.
    let disk = if sys.join("partition").exists() {
        sys.parent().unwrap().to_path_buf()
    } else {
        sys
    };
    let device = std::fs::canonicalize(disk.join("device")).unwrap();
    let virtio = device.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        virtio.starts_with("virtio"),
        "{} is not on a virtio disk ({})",
        path.display(),
        device.display()
    );
    (path.to_string_lossy().into_owned(), format!("{virtio}-"))
}

/// /proc/interrupts: each numbered IRQ's (number, name) and its total
/// over CPUs.
fn proc_interrupts() -> HashMap<(u32, String), u64> {
    let text = std::fs::read_to_string("/proc/interrupts").unwrap();
    let cpus = text.lines().next().unwrap().split_whitespace().count();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (irq, rest) = l.split_once(':')?;
            let irq: u32 = irq.trim().parse().ok()?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let total = fields[..cpus]
                .iter()
                .map(|c| c.parse::<u64>().unwrap())
                .sum();
            let name = fields.last()?.to_string();
            Some(((irq, name), total))
        })
        .collect()
}

fn rows(fin: &Finished) -> Vec<Value> {
    fin.json()
        .into_iter()
        .filter(|r| r["event"] == "hardirqs")
        .collect()
}

#[test]
fn disk_reads_raise_the_disk_irq_and_counts_match_the_kernels() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("hardirqs");
    let (file, prefix) = file_on_disk(&dir);
    let disk_irqs: Vec<(u32, String)> = proc_interrupts()
        .into_keys()
        .filter(|(_, name)| name.starts_with(&prefix) && !name.ends_with("-config"))
        .collect();
    assert!(
        !disk_irqs.is_empty(),
        "no {prefix}* IRQ in /proc/interrupts"
    );
    let kernel: Vec<TracepointCount> = disk_irqs
        .iter()
        .map(|(irq, _)| {
            TracepointCount::open("irq", "irq_handler_entry", &format!("irq == {irq}")).unwrap()
        })
        .collect();
    let counts = |at: &HashMap<(u32, String), u64>| -> Vec<(u64, u64)> {
        disk_irqs
            .iter()
            .zip(&kernel)
            .map(|(id, k)| (at[id], k.read()))
            .collect()
    };
    let before_start = counts(&proc_interrupts());
    let t = Tracer::ours("hardirqs", &["--json"]);
    let after_start = counts(&proc_interrupts());
    Workload::start(&["direct-reads", &file, "2000"]).go();
    let before_stop = counts(&proc_interrupts());
    let fin = t.stop();
    let after_stop = counts(&proc_interrupts());
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let rows = rows(&fin);
    // Handler runs our programs did not count: counted as lost, never
    // silent. Among them, runs the kernel counted (/proc/stat) without
    // running the programs: on this VM the irq tracepoints now
    // and then fire without running any BPF program attached to them (up
    // to 75 runs of 2000 missed, more often while perf or ftrace also
    // records them, as this test's reference does), while the perf
    // counters see every run.
    let lost = fin.interval_lost_total();
    let not_run = fin.lost_for(LostReason::NotRun.describe());
    let (mut raised, mut lows) = (0, 0);
    for (i, (irq, name)) in disk_irqs.iter().enumerate() {
        // The reference is the kernel's count of the tracepoint's hits for
        // this IRQ, not /proc/interrupts: that counts arrivals, and an
        // edge IRQ that arrives while its handler runs on another CPU is
        // served by a rerun there, which serves any number of arrivals at
        // once. (A CI run that traced 1977 runs for 2000 arrivals, none
        // lost, was most likely the gap above rather than reruns: the perf
        // counters, used since, see every run that the programs miss.)
        let low = before_stop[i].1 - after_start[i].1;
        let high = after_stop[i].1 - before_start[i].1;
        let count = rows
            .iter()
            .find(|r| r["irq"] == *irq && r["name"] == name.as_str())
            .map_or(0, |r| r["count"].as_u64().unwrap());
        // Every run is traced or counted lost; and the runs the tool
        // found uncounted were runs perf saw and the programs did not.
        let short = fin.irq_shortfall(*irq);
        assert!(
            count <= high && count + lost >= low && count + short <= high,
            "IRQ {irq} {name}: traced {count} ({lost} runs lost, {not_run} of them not run, \
             {short} of this IRQ), the handler ran {low} times while surely attached, {high} \
             in all: {rows:#?}"
        );
        raised += before_stop[i].0 - after_start[i].0;
        lows += low;
    }
    // Other losses are rare: a few in thousands at most; and the gap below
    // us has stayed within 75 runs of 2000.
    let other = lost - not_run;
    assert!(other * 100 <= lows.max(100), "{other} lost of {lows}");
    assert!(not_run * 20 <= lows.max(100), "{not_run} not run of {lows}");
    assert!(
        raised > 0,
        "2000 O_DIRECT reads of {file} raised no {prefix}* IRQ"
    );
    let disk_row = rows
        .iter()
        .find(|r| r["name"].as_str().unwrap().starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix}* row: {rows:#?}"));
    assert!(disk_row["total_ns"].as_u64().unwrap() > 0, "{disk_row}");
}

#[test]
fn table_counts_and_histograms() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("hardirqs");
    let (dev, prefix) = file_on_disk(&dir);
    let t = Tracer::ours("hardirqs", &["-C"]);
    Workload::start(&["direct-reads", &dev, "500"]).go();
    let fin = t.stop();
    assert_eq!(
        fin.stdout[0],
        format!("{:<26} {:>11}", "HARDIRQ", "TOTAL_count"),
        "{:?}",
        fin.stdout
    );
    let row = fin
        .stdout
        .iter()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix}* row: {:?}", fin.stdout));
    let n: u64 = row.split_whitespace().last().unwrap().parse().unwrap();
    assert!(n > 0, "{row}");

    let t = Tracer::ours("hardirqs", &["--dist", "--json"]);
    Workload::start(&["direct-reads", &dev, "500"]).go();
    let fin = t.stop();
    let rows = rows(&fin);
    let r = rows
        .iter()
        .find(|r| r["name"].as_str().unwrap().starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix}* row: {rows:#?}"));
    assert_eq!(r["hist"]["unit"], "usecs");
    let in_hist: u64 = r["hist"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(in_hist, r["count"].as_u64().unwrap(), "{r:#}");
}
