//! A Debian arm64 system on a virtio disk: Debian's packages (systemd, udev, util-linux,
//! login, iproute2, ... with the dependency closure apt itself resolves, downloaded with
//! `apt-get download` for arm64 without touching the host's apt state) unpacked with
//! `dpkg-deb` into a merged-/usr root, configured by hand (what the maintainer scripts
//! would do: users and groups from base-passwd, shadow files, PAM, fstab, hostname,
//! machine-id, systemd-networkd with DHCP, a serial getty on ttyAMA0), made into an ext4
//! image with `mkfs.ext4 -d` (`target/debian-disk/disk.img`, 1 GiB sparse). A busybox
//! initramfs loads Debian's virtio and ext4 modules from the kernel package, mounts
//! `/dev/vda` and switches to systemd.
//!
//! Root logs in on the serial console without a password (root's shadow entry is empty).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::initramfs::Cpio;
use crate::linux::{apt_opts, cache_dir, run_ok};
use crate::paths::Paths;
use crate::run::Runner;

/// What is installed (with what these depend on, as apt resolves it). `usr-is-merged`
/// is named so that apt does not pick `usrmerge` (and perl) for the merged-/usr
/// dependency: the root is built merged.
pub const PACKAGES: &[&str] = &[
    "base-files",
    "base-passwd",
    "usr-is-merged",
    "libc6",
    "libc-bin",
    "bsdutils",
    "bash",
    "dash",
    "coreutils",
    "util-linux",
    "mount",
    "login",
    "passwd",
    "libpam-runtime",
    "libpam-modules",
    "systemd",
    "systemd-sysv",
    "udev",
    "kmod",
    "iproute2",
    "iputils-ping",
    "procps",
    "netbase",
    "sed",
    "grep",
    "findutils",
    "diffutils",
    "hostname",
    "gzip",
    "tar",
    "less",
    "ncurses-base",
    "ncurses-bin",
];

/// Debian's kernel modules the initramfs loads (with their dependencies from the
/// kernel package's `modules.dep`, loaded first).
pub const MODULES: &[&str] = &[
    "virtio_mmio",
    "virtio_blk",
    "crc32c_generic",
    "ext4",
    "virtio_net",
    "virtio-rng",
    "virtio_console",
];

/// Guest RAM and vCPUs (both emulators).
pub const MEMORY: &str = "1G";
pub const SMP: u32 = 2;
/// The image size (sparse).
const IMAGE_SIZE: &str = "1G";
/// The host name (the prompt is `debian login: `).
pub const HOSTNAME: &str = "debian";
/// What the getty prints when the system is up.
pub const LOGIN: &str = "login: ";
/// The line `xtask-ip.service` prints once the network is online.
pub const IP_LINE: &str = "xtask: ipv4 ";
/// The kernel parameter that runs the disk throughput test (`xtask-dd.service`).
pub const DD_PARAM: &str = "xtask.dd=1";
/// The line it prints before dd's summary.
pub const DD_LINE: &str = "xtask: dd ";

/// The busybox `/init` of the initramfs.
const INIT: &str = r#"#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do
    insmod /lib/modules/$m.ko || echo "initrd: insmod $m failed"
done
root=/dev/vda
fstype=ext4
mode=rw
for a in $(cat /proc/cmdline); do
    case $a in
    root=*) root=${a#root=} ;;
    rootfstype=*) fstype=${a#rootfstype=} ;;
    ro) mode=ro ;;
    rw) mode=rw ;;
    esac
done
n=0
while [ ! -b "$root" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
mkdir -p /newroot
if ! mount -t "$fstype" -o "$mode" "$root" /newroot; then
    echo "initrd: cannot mount $root ($fstype); a shell:"
    exec setsid cttyhack sh
fi
mount --move /dev /newroot/dev
umount /sys /proc
exec switch_root /newroot /sbin/init
"#;

/// Run after the packages are unpacked into `$ROOT` (under fakeroot when not root): the
/// configuration the maintainer scripts would have done, then the image.
const FINISH_SH: &str = r#"set -e
cd "$ROOT"
# base-passwd's postinst: the master files; passwd's (shadowconfig on, pwconv and
# grpconv): the passwords move to the shadow files ("x" left behind), root's empty.
awk -F: -v OFS=: '{ $2 = "x"; print }' usr/share/base-passwd/passwd.master > etc/passwd
awk -F: -v OFS=: '{ $2 = "x"; print }' usr/share/base-passwd/group.master > etc/group
awk -F: '{ printf "%s:%s:19700:0:99999:7:::\n", $1, ($1 == "root" ? "" : "*") }' etc/passwd > etc/shadow
awk -F: '{ printf "%s:*::\n", $1 }' etc/group > etc/gshadow
chmod 0644 etc/passwd etc/group
chmod 0640 etc/shadow etc/gshadow
chgrp 42 etc/shadow etc/gshadow
# debianutils' postinst: the login shells.
printf '/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/dash\n/usr/bin/dash\n' > etc/shells
mkdir -p root tmp var/tmp run proc sys dev home mnt
chmod 0700 root
# base-files' postinst: /etc/profile, the motd, root's dot files; libc-bin's:
# /etc/nsswitch.conf.
cp usr/share/base-files/profile etc/profile
cp usr/share/base-files/motd etc/motd
cp usr/share/base-files/dot.profile root/.profile
cp usr/share/base-files/dot.bashrc root/.bashrc
if [ -f usr/share/libc-bin/nsswitch.conf ]; then cp usr/share/libc-bin/nsswitch.conf etc/nsswitch.conf; fi
chmod 1777 tmp var/tmp
# The files and links the xtask wrote (owned by root in the image).
chmod 0755 "$OVERLAY"/usr/local/sbin/*
chown -hR 0:0 "$OVERLAY"
cp -a "$OVERLAY"/. .
cd /
rm -f "$IMAGE.tmp"
mkfs.ext4 -q -F -L debian-root -d "$ROOT" "$IMAGE.tmp" "$SIZE"
mv "$IMAGE.tmp" "$IMAGE"
"#;

/// PAM's common files (what `pam-auth-update` writes for pam_unix alone).
const COMMON_AUTH: &str = "auth\t[success=1 default=ignore]\tpam_unix.so nullok\nauth\trequisite\tpam_deny.so\nauth\trequired\tpam_permit.so\n";
const COMMON_ACCOUNT: &str = "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so\naccount\trequisite\tpam_deny.so\naccount\trequired\tpam_permit.so\n";
const COMMON_PASSWORD: &str = "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\npassword\trequisite\tpam_deny.so\npassword\trequired\tpam_permit.so\n";
const COMMON_SESSION: &str =
    "session\t[default=1]\tpam_permit.so\nsession\trequisite\tpam_deny.so\nsession\trequired\tpam_permit.so\nsession\trequired\tpam_unix.so\n";

/// DHCP on every Ethernet card; online (network-online.target) once it has a route.
const NETWORK: &str =
    "[Match]\nType=ether\n\n[Link]\nRequiredForOnline=routable\n\n[Network]\nDHCP=yes\n";

/// Prints the global IPv4 addresses on the console (waiting up to 60 s for one).
const IP_SCRIPT: &str = r#"#!/bin/sh
n=0
while [ -z "$(ip -4 -o addr show scope global)" ] && [ $n -lt 120 ]; do sleep 0.5; n=$((n + 1)); done
a=$(ip -4 -o addr show scope global | while read -r _ dev _ addr _; do printf '%s %s ' "$dev" "$addr"; done)
echo "xtask: ipv4 ${a:-none}" > /dev/console
"#;

/// Writes 64 MiB with O_DIRECT and prints dd's summary on the console.
const DD_SCRIPT: &str = r#"#!/bin/sh
r=$(dd if=/dev/zero of=/var/tmp/dd.bin bs=1M count=64 oflag=direct 2>&1 | tail -n 1)
rm -f /var/tmp/dd.bin
echo "xtask: dd $r" > /dev/console
"#;

const IP_SERVICE: &str = r#"[Unit]
Description=Print the IPv4 addresses on the console once the network is online
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/xtask-ip

[Install]
WantedBy=multi-user.target
"#;

const DD_SERVICE: &str = r#"[Unit]
Description=Disk throughput (dd with O_DIRECT), with xtask.dd=1 on the kernel command line
ConditionKernelCommandLine=xtask.dd=1
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/xtask-dd

[Install]
WantedBy=multi-user.target
"#;

/// Where it all lives: `target/debian-disk/`.
pub fn dir(paths: &Paths) -> PathBuf {
    paths.target.join("debian-disk")
}

/// The packages apt would install on an empty system (`apt-get -s install` against an
/// empty dpkg status file and the arm64 lists).
fn resolve(opts: &[String], status: &Path) -> Result<Vec<String>> {
    let out = run_ok(
        Command::new("apt-get")
            .args(opts)
            .arg(format!("-oDir::State::status={}", status.display()))
            .args(["-oDir::Cache::pkgcache=", "-oDir::Cache::srcpkgcache="])
            .args(["-s", "install", "--no-install-recommends"])
            .args(PACKAGES),
        "apt-get -s install (resolving the Debian root's packages)",
    )?;
    Ok(inst_names(&out))
}

/// The package names of the `Inst NAME (...)` lines, sorted.
fn inst_names(out: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        .filter_map(|l| l.split_whitespace().next())
        .map(|n| n.trim_end_matches(":arm64").to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The `.deb` files, downloaded on first use (listed in `target/debian-disk/debs.txt`;
/// delete it to resolve and fetch again).
fn debs(paths: &Paths) -> Result<Vec<PathBuf>> {
    let dir = dir(paths);
    let dl = dir.join("dl");
    let list = dir.join("debs.txt");
    // The first line names what was asked for: another PACKAGES resolves again.
    let header = format!("# {}\n", PACKAGES.join(" "));
    if let Ok(text) = std::fs::read_to_string(&list) {
        if let Some(rest) = text.strip_prefix(&header) {
            let debs: Vec<PathBuf> = rest.lines().map(|l| dl.join(l)).collect();
            if !debs.is_empty() && debs.iter().all(|d| d.is_file()) {
                return Ok(debs);
            }
        }
    }
    std::fs::create_dir_all(&dl)?;
    let lists = cache_dir(paths).join("lists");
    std::fs::create_dir_all(lists.join("partial"))?;
    let opts = apt_opts(&lists);
    let status = dir.join("empty-status");
    std::fs::write(&status, "")?;
    let names = match resolve(&opts, &status) {
        Ok(n) if !n.is_empty() => n,
        _ => {
            run_ok(
                Command::new("apt-get").args(&opts).arg("update"),
                "apt-get update (arm64 lists)",
            )?;
            resolve(&opts, &status)?
        }
    };
    let debs = crate::userland::fetch_debs(&opts, &dl, &names)?;
    let text = crate::userland::deb_list(&debs);
    std::fs::write(&list, header + &text)?;
    Ok(debs)
}

/// A random machine id (32 hex digits) from the kernel's UUID generator.
fn machine_id() -> Result<String> {
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .context("reading /proc/sys/kernel/random/uuid")?;
    Ok(uuid.trim().replace('-', ""))
}

/// The files and symlinks the xtask adds (path, contents or `->` link target).
enum Extra {
    File(&'static str, String),
    Link(&'static str, &'static str),
}

fn extras() -> Result<Vec<Extra>> {
    use Extra::{File, Link};
    Ok(vec![
        File(
            "etc/fstab",
            "# <file system> <mount point> <type> <options> <dump> <pass>\n\
             /dev/vda / ext4 rw,errors=remount-ro 0 0\n"
                .into(),
        ),
        File("etc/hostname", format!("{HOSTNAME}\n")),
        File(
            "etc/hosts",
            format!("127.0.0.1\tlocalhost\n127.0.1.1\t{HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
        ),
        File("etc/machine-id", format!("{}\n", machine_id()?)),
        // user networking's DNS (no systemd-resolved in bookworm's systemd package).
        File("etc/resolv.conf", "nameserver 10.0.2.3\n".into()),
        File("etc/pam.d/common-auth", COMMON_AUTH.into()),
        File("etc/pam.d/common-account", COMMON_ACCOUNT.into()),
        File("etc/pam.d/common-password", COMMON_PASSWORD.into()),
        File("etc/pam.d/common-session", COMMON_SESSION.into()),
        File(
            "etc/pam.d/common-session-noninteractive",
            COMMON_SESSION.into(),
        ),
        File("etc/systemd/network/20-wired.network", NETWORK.into()),
        File("etc/systemd/system/xtask-ip.service", IP_SERVICE.into()),
        File("usr/local/sbin/xtask-ip", IP_SCRIPT.into()),
        File("usr/local/sbin/xtask-dd", DD_SCRIPT.into()),
        // Only the serial console: no gettys on tty1-6 (getty-static starts them when
        // there is no logind, which needs dbus).
        Link("etc/systemd/system/getty-static.service", "/dev/null"),
        File("etc/systemd/system/xtask-dd.service", DD_SERVICE.into()),
        // What `systemctl enable` (the postinsts, the presets) would link.
        Link(
            "etc/systemd/system/default.target",
            "/lib/systemd/system/multi-user.target",
        ),
        Link(
            "etc/systemd/system/getty.target.wants/serial-getty@ttyAMA0.service",
            "/lib/systemd/system/serial-getty@.service",
        ),
        Link(
            "etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
            "/lib/systemd/system/systemd-networkd.service",
        ),
        Link(
            "etc/systemd/system/sockets.target.wants/systemd-networkd.socket",
            "/lib/systemd/system/systemd-networkd.socket",
        ),
        Link(
            "etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service",
            "/lib/systemd/system/systemd-networkd-wait-online.service",
        ),
        Link(
            "etc/systemd/system/dbus-org.freedesktop.network1.service",
            "/lib/systemd/system/systemd-networkd.service",
        ),
        Link(
            "etc/systemd/system/multi-user.target.wants/xtask-ip.service",
            "/etc/systemd/system/xtask-ip.service",
        ),
        Link(
            "etc/systemd/system/multi-user.target.wants/xtask-dd.service",
            "/etc/systemd/system/xtask-dd.service",
        ),
    ])
}

/// The root image (`target/debian-disk/disk.img`), built when missing or when the
/// packages or the added files change (a stamp records them).
pub fn image(paths: &Paths) -> Result<PathBuf> {
    let dir = dir(paths);
    let img = dir.join("disk.img");
    let debs = debs(paths)?;
    let extras = extras()?;
    let mut stamp = String::new();
    for d in &debs {
        stamp.push_str(&format!("{}\n", d.display()));
    }
    for e in &extras {
        match e {
            // The machine id is random: not part of the stamp.
            Extra::File("etc/machine-id", _) => {}
            Extra::File(p, data) => stamp.push_str(&format!("{p} {}\n", fnv1a(data.as_bytes()))),
            Extra::Link(p, t) => stamp.push_str(&format!("{p} -> {t}\n")),
        }
    }
    stamp.push_str(&format!("finish {}\n", fnv1a(FINISH_SH.as_bytes())));
    let stamp_file = dir.join("stamp");
    if img.is_file() && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(&stamp) {
        return Ok(img);
    }
    if crate::tools::find_in_path("mkfs.ext4").is_none() && !Path::new("/sbin/mkfs.ext4").is_file()
    {
        bail!(
            "mkfs.ext4 is missing (it makes the Debian root image); install it with:\n    \
             sudo apt-get install e2fsprogs"
        );
    }
    let root = dir.join("root");
    let overlay = dir.join("overlay");
    for d in [&root, &overlay] {
        if d.exists() {
            std::fs::remove_dir_all(d).with_context(|| format!("removing {}", d.display()))?;
        }
    }
    std::fs::create_dir_all(root.join("usr"))?;
    // Merged /usr, as debootstrap makes it for bookworm.
    for (link, to) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")] {
        std::fs::create_dir_all(root.join(to))?;
        std::os::unix::fs::symlink(to, root.join(link))?;
    }
    for e in &extras {
        match e {
            Extra::File(p, data) => {
                let p = overlay.join(p);
                std::fs::create_dir_all(p.parent().context("no parent")?)?;
                std::fs::write(&p, data).with_context(|| format!("writing {}", p.display()))?;
            }
            Extra::Link(p, t) => {
                let p = overlay.join(p);
                std::fs::create_dir_all(p.parent().context("no parent")?)?;
                std::os::unix::fs::symlink(t, &p)
                    .with_context(|| format!("linking {}", p.display()))?;
            }
        }
    }
    eprintln!(
        "unpacking {} Debian packages into {} and making {}",
        debs.len(),
        root.display(),
        img.display()
    );
    // One shell runs the unpacking, the configuration and mkfs, so that without root
    // one fakeroot session gives every file root's ownership in the image.
    let mut script = String::from("set -e\n");
    for d in &debs {
        script.push_str(&format!(
            "dpkg-deb --fsys-tarfile '{}' | tar -x --keep-directory-symlink -C \"$ROOT\"\n",
            d.display()
        ));
    }
    script.push_str(FINISH_SH);
    let is_root = run_ok(Command::new("id").arg("-u"), "id -u")?.trim() == "0";
    let mut cmd = if is_root {
        Command::new("sh")
    } else {
        if crate::tools::find_in_path("fakeroot").is_none() {
            bail!(
                "not root and fakeroot is missing (the image's files must belong to root); \
                 install it with:\n    sudo apt-get install fakeroot"
            );
        }
        let mut c = Command::new("fakeroot");
        c.arg("sh");
        c
    };
    cmd.arg("-c")
        .arg(&script)
        .env("ROOT", &root)
        .env("OVERLAY", &overlay)
        .env("IMAGE", &img)
        .env("SIZE", IMAGE_SIZE);
    run_ok(&mut cmd, "unpacking the packages and mkfs.ext4")?;
    // The image has it all: the trees would only take disk space.
    for d in [&root, &overlay] {
        std::fs::remove_dir_all(d).with_context(|| format!("removing {}", d.display()))?;
    }
    std::fs::write(&stamp_file, stamp)?;
    Ok(img)
}

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A module name as the kernel knows it (`virtio-rng` is `virtio_rng`).
fn norm(name: &str) -> String {
    name.replace('-', "_")
}

/// The kernel package's modules (from its `modules.order`: the package has no
/// `modules.dep`, depmod runs in its postinst): the version directory and each module's
/// normalised name with its path there.
fn module_table(paths: &Paths) -> Result<(PathBuf, Vec<(String, String)>)> {
    let base = cache_dir(paths).join("pkg/lib/modules");
    let ver = std::fs::read_dir(&base)
        .with_context(|| format!("reading {}", base.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.join("modules.order").is_file())
        .with_context(|| {
            format!(
                "no modules.order under {} (delete target/linux/vmlinuz to fetch the kernel \
                 package again)",
                base.display()
            )
        })?;
    let text = std::fs::read_to_string(ver.join("modules.order"))?;
    let v = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|p| {
            let f = p.rsplit('/').next().unwrap_or(p);
            (norm(f.split(".ko").next().unwrap_or(f)), p.to_string())
        })
        .collect();
    Ok((ver, v))
}

/// The `depends=` field of a module's `.modinfo` section.
fn modinfo_depends(ko: &[u8]) -> Vec<String> {
    let key = b"\0depends=";
    let Some(at) = ko.windows(key.len()).position(|w| w == key) else {
        return Vec::new();
    };
    let rest = &ko[at + key.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(norm)
        .collect()
}

/// `wanted` and their dependencies (`deps` gives a module's), dependencies first.
fn load_order(deps: &dyn Fn(&str) -> Result<Vec<String>>, wanted: &[&str]) -> Result<Vec<String>> {
    fn visit(
        deps: &dyn Fn(&str) -> Result<Vec<String>>,
        m: &str,
        out: &mut Vec<String>,
        depth: usize,
    ) -> Result<()> {
        if out.iter().any(|o| o == m) {
            return Ok(());
        }
        if depth > 32 {
            bail!("module dependency loop at {m}");
        }
        for x in deps(m)? {
            visit(deps, &x, out, depth + 1)?;
        }
        out.push(m.to_string());
        Ok(())
    }
    let mut out = Vec::new();
    for m in wanted {
        visit(deps, &norm(m), &mut out, 0)?;
    }
    Ok(out)
}

/// The initramfs (`target/debian-disk/initrd.cpio`): busybox, the modules, `/init`.
pub fn initrd(paths: &Paths) -> Result<PathBuf> {
    let busybox = std::fs::read(crate::initramfs::busybox(paths)?).context("reading busybox")?;
    let (ver, table) = module_table(paths)?;
    let path_of = |m: &str| -> Result<PathBuf> {
        let (_, rel) = table
            .iter()
            .find(|(n, _)| n == m)
            .with_context(|| format!("module {m} not in the kernel package's modules.order"))?;
        if !rel.ends_with(".ko") {
            bail!("{rel} is compressed; busybox insmod wants plain .ko files");
        }
        Ok(ver.join(rel))
    };
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let order = load_order(&|m| Ok(modinfo_depends(&read(&path_of(m)?)?)), MODULES)?;
    let mut c = Cpio::default();
    for d in [
        "bin",
        "sbin",
        "dev",
        "proc",
        "sys",
        "newroot",
        "lib",
        "lib/modules",
    ] {
        c.dir(d);
    }
    for m in &order {
        c.file(&format!("lib/modules/{m}.ko"), 0o644, &read(&path_of(m)?)?);
    }
    c.file(
        "modules.order",
        0o644,
        format!("{}\n", order.join("\n")).as_bytes(),
    );
    c.file("bin/busybox", 0o755, &busybox);
    c.symlink("bin/sh", "busybox");
    c.file("init", 0o755, INIT.as_bytes());
    c.node("dev/console", 0o020_600, 5, 1);
    let dir = dir(paths);
    std::fs::create_dir_all(&dir)?;
    let out = dir.join("initrd.cpio");
    let data = c.finish();
    if std::fs::read(&out).ok().as_deref() != Some(&data[..]) {
        std::fs::write(&out, &data).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(out)
}

/// Kernel, initrd and image, built or fetched when missing.
pub struct Files {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub image: PathBuf,
}

pub fn files(paths: &Paths) -> Result<Files> {
    Ok(Files {
        kernel: crate::linux::kernel(paths)?,
        initrd: initrd(paths)?,
        image: image(paths)?,
    })
}

/// The kernel command line (`extra` appended).
pub fn append(extra: &str) -> String {
    let mut s = "console=ttyAMA0 root=/dev/vda rw".to_string();
    if !extra.is_empty() {
        s.push(' ');
        s.push_str(extra);
    }
    s
}

/// The QEMU options for the disk, the network card and the RNG (the same on both).
pub fn device_args(image: &Path, snapshot: bool) -> Vec<String> {
    let snap = if snapshot { ",snapshot=on" } else { "" };
    [
        "-global",
        "virtio-mmio.force-legacy=false",
        "-drive",
        &format!("file={},format=raw,if=none,id=d0{snap}", image.display()),
        "-device",
        "virtio-blk-device,drive=d0",
        "-netdev",
        "user,id=n0",
        "-device",
        "virtio-net-device,netdev=n0",
        "-device",
        "virtio-rng-device",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The command booting the Debian disk on `runner` (`-m 1G`, 2 vCPUs).
pub fn command(
    paths: &Paths,
    f: &Files,
    image: &Path,
    runner: Runner,
    snapshot: bool,
    extra: &str,
) -> Command {
    let mut cmd = crate::linux::command_with(
        runner,
        &paths.virt(),
        &f.kernel,
        SMP,
        Some(&f.initrd),
        &append(extra),
    );
    cmd.args(["-m", MEMORY]);
    cmd.args(device_args(image, snapshot));
    cmd
}

/// How a boot went.
pub struct Boot {
    pub log: String,
    /// Time to the `login: ` prompt.
    pub login: Option<Duration>,
    /// The `xtask: ipv4 ...` line.
    pub ip: Option<String>,
    /// dd's summary (with `xtask.dd=1`).
    pub dd: Option<String>,
    pub elapsed: Duration,
}

/// Runs `cmd` (stdin closed) until the login prompt and every line in `also` has
/// appeared (or `timeout`), reading the console byte by byte (the prompt has no
/// newline), then kills it.
pub fn boot(mut cmd: Command, also: &[&str], timeout: Duration) -> Result<Boot> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut readers = Vec::new();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        let mut pipe = pipe;
        readers.push(std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut raw = Vec::new();
    let mut login = None;
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        match rx.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(chunk) => {
                raw.extend_from_slice(&chunk);
                let text = String::from_utf8_lossy(&raw);
                if login.is_none() && text.contains(LOGIN) {
                    login = Some(start.elapsed());
                }
                if login.is_some() && also.iter().all(|a| text.contains(a)) {
                    // The rest of the line.
                    std::thread::sleep(Duration::from_millis(200));
                    while let Ok(c) = rx.try_recv() {
                        raw.extend_from_slice(&c);
                    }
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if start.elapsed() >= timeout {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let elapsed = start.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    for r in readers {
        let _ = r.join();
    }
    let log = String::from_utf8_lossy(&raw).replace('\r', "");
    let after = |key: &str| {
        log.lines()
            .find_map(|l| l.split_once(key).map(|(_, r)| r.trim().to_string()))
    };
    Ok(Boot {
        ip: after(IP_LINE),
        dd: after(DD_LINE),
        login,
        elapsed,
        log,
    })
}

/// How long a boot to the login prompt may take.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// Boots the disk on `runner` (`snapshot=on`: the image stays clean; with `dd` the
/// throughput test runs too) and checks the login prompt and the DHCP address
/// (10.0.2.15) appear; the log goes to `target/debian-disk/RUNNER.log`.
pub fn check_one(
    report: &mut crate::Report,
    paths: &Paths,
    f: &Files,
    runner: Runner,
    dd: bool,
    timeout: Duration,
) -> Option<Boot> {
    let what = format!("debian disk to login: {}", runner.label());
    let extra = if dd { DD_PARAM } else { "" };
    let mut also = vec![IP_LINE];
    if dd {
        also.push(DD_LINE);
    }
    let cmd = command(paths, f, &f.image, runner, true, extra);
    let b = match boot(cmd, &also, timeout) {
        Ok(b) => b,
        Err(e) => {
            report.fail(&what, &format!("{e:#}"));
            return None;
        }
    };
    let log = dir(paths).join(format!("{}.log", runner.label().replace('/', "-")));
    let _ = std::fs::write(&log, &b.log);
    let ip_ok =
        b.ip.as_deref()
            .is_some_and(|ip| ip.contains("10.0.2.15/24"));
    match b.login {
        Some(t) if ip_ok => {
            report.pass(&what, t);
            println!(
                "     network: {}{}",
                b.ip.as_deref().unwrap_or(""),
                b.dd.as_deref()
                    .map(|d| format!("; dd: {d}"))
                    .unwrap_or_default()
            );
        }
        _ => report.fail(
            &what,
            &format!(
                "login prompt after {:?}, address line {:?} (want 10.0.2.15/24), {:.1} s; \
                 log {}; last lines:\n{}",
                b.login,
                b.ip,
                b.elapsed.as_secs_f64(),
                log.display(),
                tail(&b.log, 30)
            ),
        ),
    }
    Some(b)
}

/// The last `n` lines of a log.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// dd's rate (`..., 12.3 MB/s`) in MB/s.
pub fn dd_rate(summary: &str) -> Option<f64> {
    let last = summary.rsplit(", ").next()?;
    let (num, unit) = last.trim().split_once(' ')?;
    let v: f64 = num.parse().ok()?;
    match unit {
        "kB/s" => Some(v / 1000.0),
        "MB/s" => Some(v),
        "GB/s" => Some(v * 1000.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inst_lines_name_the_packages() {
        let out = "Reading package lists...\nInst libc6 (2.36-9 Debian:12 [arm64]) []\n\
                   Conf libc6 (2.36-9)\nInst bash:arm64 (5.2)\nInst libc6 (2.36-9)\n";
        assert_eq!(
            inst_names(out),
            vec!["bash".to_string(), "libc6".to_string()]
        );
    }

    #[test]
    fn modules_load_after_their_dependencies() {
        let deps = |m: &str| -> Result<Vec<String>> {
            let d: &[&str] = match m {
                "ext4" => &["mbcache", "jbd2", "crc16"],
                "jbd2" => &["crc16"],
                "mbcache" | "crc16" | "virtio_rng" => &[],
                _ => bail!("no {m}"),
            };
            Ok(d.iter().map(|s| s.to_string()).collect())
        };
        let o = load_order(&deps, &["ext4", "jbd2", "virtio-rng"]).unwrap();
        assert_eq!(o, vec!["mbcache", "crc16", "jbd2", "ext4", "virtio_rng"]);
        assert!(load_order(&deps, &["nope"]).is_err());
        let ko = b"\x7fELF..\0license=GPL\0depends=mbcache,jbd2,crc16\0intree=Y\0";
        assert_eq!(modinfo_depends(ko), vec!["mbcache", "jbd2", "crc16"]);
        assert!(modinfo_depends(b"\0depends=\0").is_empty());
    }

    #[test]
    fn dd_rates() {
        let s = "67108864 bytes (67 MB, 64 MiB) copied, 1.52 s, 44.2 MB/s";
        assert_eq!(dd_rate(s), Some(44.2));
        assert_eq!(dd_rate("x, 1.5 GB/s"), Some(1500.0));
        assert_eq!(dd_rate("garbage"), None);
    }
}
