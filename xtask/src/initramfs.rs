//! A busybox userland for Debian's kernel: Debian's `busybox-static` package (fetched
//! like the kernel) packed with an `/init` script into a `newc` cpio initramfs, so Linux
//! boots to a shell (`cargo xtask run`) or runs a fixed command script and powers
//! off (`cargo xtask test`, compared with QEMU running the same archive).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::linux::{apt_opts, cache_dir, run_ok};
use crate::paths::Paths;

const PACKAGE: &str = "busybox-static";

/// The kernel parameter that makes `/init` run `/check.sh` and power off.
pub const CHECK_PARAM: &str = "xtask.check=1";
/// Lines `/check.sh` prints around its results.
pub const CHECK_BEGIN: &str = "=== check begin ===";
pub const CHECK_END: &str = "=== check end ===";

/// Mounts, installs the applet links, then either the check script or a shell.
const INIT: &str = r#"#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
if grep -q 'xtask.check=1' /proc/cmdline; then
    # Only emergencies on the console: a kernel warning (say `hrtimer: interrupt took
    # ... ns` on a loaded host) must not land among the script's lines.
    echo 1 > /proc/sys/kernel/printk
    sh /check.sh
    poweroff -f
fi
if grep -q 'xtask.virtio=1' /proc/cmdline; then
    echo 1 > /proc/sys/kernel/printk
    sh /virtio.sh
    poweroff -f
fi
if grep -q 'xtask.net=1' /proc/cmdline; then
    echo 1 > /proc/sys/kernel/printk
    sh /net.sh
    poweroff -f
fi
# Debian's kernel has the virtio drivers as modules (virtio and virtio_ring are built in).
for m in failover net_failover virtio_mmio virtio_blk virtio-rng virtio_console virtio_net; do
    [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko 2>/dev/null
done
# With a network card: up, with an address by DHCP (user networking: 10.0.2.15).
if [ -e /sys/class/net/eth0 ]; then
    ip link set lo up
    ip link set eth0 up
    udhcpc -i eth0 -n -q -t 3 -s /udhcpc.sh >/dev/null 2>&1
fi
echo
echo "busybox on Linux $(uname -r) ($(nproc) CPUs). 'poweroff -f' powers off; Ctrl-A x quits."
exec setsid cttyhack sh
"#;

/// Deterministic userland work (glibc's NEON string functions, awk's floating point,
/// hashing, pipes, fork/exec on every CPU) whose output must equal QEMU's.
const CHECK: &str = r#"echo "=== check begin ==="
uname -s -m
echo "cpus $(nproc)"
echo "arith $((6 * 7)) $((1 << 40))"
seq 1 1000 | awk '{ s += $1; q += $1 * $1 } END { print "sum", s, q }'
awk 'BEGIN { x = 2; for (i = 0; i < 8; i++) x = x / 2 + 1 / x; printf "sqrt2 %.15f %a\n", x, x / 3 }'
awk 'BEGIN { x = 1; for (i = 0; i < 60; i++) x = x * 1.1 + 0.3; printf "fp %.10e %d\n", x, int(x / 7) }'
printf 'The quick brown fox jumps over the lazy dog' | md5sum
printf 'The quick brown fox jumps over the lazy dog' | sha1sum
printf 'The quick brown fox jumps over the lazy dog' | sha256sum
seq 1 2000 | sha512sum
seq 1 300 | tr '0-9' 'a-j' | sort -r | head -c 2000 | md5sum
echo "The Quick Brown Fox" | tr 'A-Z' 'a-z' | sed 's/quick/slow/; s/o/0/g'
ls /bin | wc -l
(for i in 1 2 3 4; do (echo "job $i $(seq 1 $((i * 500)) | wc -c)") & done; wait) | sort
cut -d' ' -f1 /proc/loadavg > /dev/null && echo proc ok
echo "=== check end ==="
"#;

/// The kernel parameter that makes `/init` run `/virtio.sh` (the virtio devices' check,
/// see `crate::virtio`) and power off.
pub const VIRTIO_PARAM: &str = "xtask.virtio=1";

/// The kernel parameter that makes `/init` run `/net.sh` (the virtio-net check).
pub const NET_PARAM: &str = "xtask.net=1";

/// busybox udhcpc's event script: configures the leased address and default route.
const UDHCPC: &str = r#"#!/bin/sh
case "$1" in
bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}"
    [ -n "$router" ] && route add default gw "${router%% *}" dev "$interface"
    ;;
esac
exit 0
"#;

/// Debian's kernel modules the initramfs carries (no dependencies beyond the built-in
/// virtio core; loaded in this order).
pub const MODULES: &[&str] = &[
    "failover",
    "net_failover",
    "virtio_mmio",
    "virtio_blk",
    "virtio-rng",
    "virtio_console",
    "virtio_net",
];

/// `<name>.ko` from the kernel package unpacked under `target/linux/pkg`.
fn module(paths: &Paths, name: &str) -> Result<Vec<u8>> {
    let root = cache_dir(paths).join("pkg/lib/modules");
    let file = format!("{name}.ko");
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == file.as_str()) {
                return std::fs::read(&p).with_context(|| format!("reading {}", p.display()));
            }
        }
    }
    bail!(
        "{file} not found under {} (delete target/linux/vmlinuz to fetch the kernel package again)",
        root.display()
    )
}

/// `bin/busybox` from Debian's package, downloaded and unpacked on first use.
pub fn busybox(paths: &Paths) -> Result<PathBuf> {
    let dir = cache_dir(paths);
    let bin = dir.join("busybox");
    if bin.is_file() {
        return Ok(bin);
    }
    let lists = dir.join("lists");
    let dl = dir.join("dl");
    std::fs::create_dir_all(lists.join("partial"))?;
    std::fs::create_dir_all(&dl)?;
    let opts = apt_opts(&lists);
    eprintln!("fetching Debian's arm64 {PACKAGE} into {}", dl.display());
    let download = |dl: &Path| {
        run_ok(
            Command::new("apt-get")
                .args(&opts)
                .args(["download", &format!("{PACKAGE}:arm64")])
                .current_dir(dl),
            "apt-get download busybox-static",
        )
    };
    if download(&dl).is_err() {
        // The arm64 package lists may not exist yet (or be stale).
        run_ok(
            Command::new("apt-get").args(&opts).arg("update"),
            "apt-get update (arm64 lists)",
        )?;
        download(&dl)?;
    }
    let deb = std::fs::read_dir(&dl)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with(PACKAGE) && n.ends_with(".deb")
            })
        })
        .with_context(|| format!("{PACKAGE}*.deb not found in {}", dl.display()))?;
    let unpacked = dir.join("busybox-pkg");
    run_ok(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked),
        "dpkg-deb -x",
    )?;
    let found = unpacked.join("bin/busybox");
    if !found.is_file() {
        bail!("no bin/busybox in {}", unpacked.display());
    }
    std::fs::copy(&found, &bin)
        .with_context(|| format!("copying {} to {}", found.display(), bin.display()))?;
    Ok(bin)
}

/// The initramfs (`target/linux/initramfs.cpio`), rebuilt when missing.
pub fn initramfs(paths: &Paths) -> Result<PathBuf> {
    let busybox = std::fs::read(busybox(paths)?).context("reading busybox")?;
    let mut c = Cpio::default();
    for d in [
        "bin",
        "sbin",
        "dev",
        "proc",
        "sys",
        "tmp",
        "etc",
        "root",
        "lib",
        "lib/modules",
    ] {
        c.dir(d);
    }
    for m in MODULES {
        c.file(&format!("lib/modules/{m}.ko"), 0o644, &module(paths, m)?);
    }
    c.file("virtio.sh", 0o644, crate::virtio::SCRIPT.as_bytes());
    c.file("net.sh", 0o644, crate::virtio::NET_SCRIPT.as_bytes());
    c.file("udhcpc.sh", 0o755, UDHCPC.as_bytes());
    c.file("bin/busybox", 0o755, &busybox);
    c.symlink("bin/sh", "busybox");
    c.file("init", 0o755, INIT.as_bytes());
    c.file("check.sh", 0o644, CHECK.as_bytes());
    // Without /dev/console the kernel's init has no stdin/stdout until devtmpfs is mounted.
    c.node("dev/console", 0o020_600, 5, 1);
    let out = cache_dir(paths).join("initramfs.cpio");
    let data = c.finish();
    if std::fs::read(&out).ok().as_deref() != Some(&data[..]) {
        std::fs::write(&out, &data).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(out)
}

/// The script's lines between the check markers (trimmed), or `None` if the script did
/// not finish. Kernel log lines (`[    1.234567] ...`) that got there before `/init`
/// lowered the console log level are not the script's and are left out.
pub fn check_output(log: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = log.lines().map(|l| l.trim_end_matches('\r')).collect();
    let start = lines.iter().position(|l| l.trim() == CHECK_BEGIN)?;
    let end = start + lines[start..].iter().position(|l| l.trim() == CHECK_END)?;
    Some(
        lines[start + 1..end]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !is_kernel_line(l))
            .map(str::to_string)
            .collect(),
    )
}

/// Whether `line` is a kernel console message: `[` seconds `.` micro-seconds `]`.
fn is_kernel_line(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((stamp, _)) = rest.split_once(']') else {
        return false;
    };
    let stamp = stamp.trim_start();
    match stamp.split_once('.') {
        Some((s, us)) => {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && us.len() == 6
                && us.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A `newc` cpio archive writer (the format the kernel unpacks into its rootfs).
#[derive(Default)]
pub(crate) struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            1, // nlink
            0, // mtime
            data.len() as u32,
            0, // dev major
            0, // dev minor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0, // check
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    pub(crate) fn dir(&mut self, name: &str) {
        self.entry(name, 0o040_755, (0, 0), &[]);
    }

    pub(crate) fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, 0o100_000 | perm, (0, 0), data);
    }

    pub(crate) fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120_777, (0, 0), target.as_bytes());
    }

    pub(crate) fn node(&mut self, name: &str, mode: u32, major: u32, minor: u32) {
        self.entry(name, mode, (major, minor), &[]);
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.ino = 0;
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        // The kernel accepts any length; round to 512 like cpio(1) does.
        while !self.out.len().is_multiple_of(512) {
            self.out.push(0);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_headers_are_well_formed() {
        let mut c = Cpio::default();
        c.file("a", 0o644, b"xyz");
        let out = c.finish();
        assert_eq!(&out[..6], b"070701");
        // name size field (12th) = 2 ("a" + NUL), file size (7th) = 3
        let field = |i: usize| &out[6 + 8 * i..14 + 8 * i];
        assert_eq!(field(11), b"00000002");
        assert_eq!(field(6), b"00000003");
        // header 110 bytes + "a\0" = 112 (aligned), data at 112
        assert_eq!(&out[112..115], b"xyz");
        assert!(out.windows(10).any(|w| w == b"TRAILER!!!"));
        assert_eq!(out.len() % 512, 0);
    }

    #[test]
    fn check_output_takes_the_lines_between_the_markers() {
        let log = format!("boot\n{CHECK_BEGIN}\r\na 1\r\n b\n{CHECK_END}\nrest\n");
        assert_eq!(check_output(&log), Some(vec!["a 1".into(), "b".into()]));
        assert_eq!(check_output("no markers"), None);
    }

    #[test]
    fn kernel_lines_among_the_scripts_are_not_its_output() {
        let log = format!(
            "{CHECK_BEGIN}\na 1\n[   12.345678] hrtimer: interrupt took 123 ns\n[x] y\n{CHECK_END}\n"
        );
        assert_eq!(check_output(&log), Some(vec!["a 1".into(), "[x] y".into()]));
    }
}
