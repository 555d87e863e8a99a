//! CPU time and peak memory of a process, from Linux's /proc. Other systems report none.
use std::path::Path;

/// USER_HZ: the unit of utime and stime in /proc/<pid>/stat. It is 100 on every Linux
/// architecture the switch runs on (the kernel ABI fixes it; only `sysconf` could say
/// otherwise, and that needs libc).
const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime of `pid` (`"self"` for this process), in seconds.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(Path::new("/proc").join(pid).join("stat")).ok()?;
    // The command name in field 2 may hold spaces: the fields we want follow its ')'.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the full line, so utime (14) and stime (15) are at
    // 11 and 12 here.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// The command name of `pid` (/proc/<pid>/comm).
pub fn command(pid: &str) -> Option<String> {
    std::fs::read_to_string(Path::new("/proc").join(pid).join("comm"))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Peak resident set (VmHWM) of `pid`, in KiB.
pub fn peak_rss_kib(pid: &str) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// Current resident set (VmRSS) of `pid`, in KiB.
pub fn rss_kib(pid: &str) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

fn status_kib(pid: &str, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(Path::new("/proc").join(pid).join("status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Resets this process's peak RSS to its current RSS (writing 5 to clear_refs, Linux 4.0+),
/// so a run's peak is not an earlier run's. False if the kernel refused.
pub fn reset_own_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Every process named `name` (e.g. the PostgreSQL server and its backends).
pub fn pids_named(name: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .filter(|p| command(p).as_deref() == Some(name))
        .collect()
}

/// Summed CPU seconds and peak RSS of every process named `name`.
pub fn group(name: &str) -> (f64, u64) {
    pids_named(name).iter().fold((0.0, 0), |(cpu, rss), p| {
        (
            cpu + cpu_seconds(p).unwrap_or(0.0),
            rss + peak_rss_kib(p).unwrap_or(0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let spin: u64 = (0..2_000_000u64).fold(0, |a, b| a.wrapping_add(b * b));
        assert!(spin > 0);
        assert!(cpu_seconds("self").is_some_and(|s| s >= 0.0));
        assert!(peak_rss_kib("self").is_some_and(|k| k > 0));
        assert!(rss_kib("self").is_some_and(|k| k > 0));
        assert!(cpu_seconds("no-such-pid").is_none());
    }
}
