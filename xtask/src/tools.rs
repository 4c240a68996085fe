//! Host tools the tests need: the AArch64 cross toolchain, QEMU, gdb-multiarch (the
//! GDB stub's client) and libslirp's development files (the `virt` build links Debian's
//! libslirp for `-netdev user`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::guests::CROSS_CC;

pub const QEMU: &str = "qemu-system-aarch64";

const APT_PACKAGES: &[&str] = &[
    "gcc-aarch64-linux-gnu",
    "binutils-aarch64-linux-gnu",
    "qemu-system-arm",
    "qemu-user",
    "libslirp-dev",
    "libglib2.0-dev",
    "pkg-config",
    "gdb-multiarch",
];

pub const APT_HINT: &str = "sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get \
     install -y gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-system-arm qemu-user \
     gdb-multiarch libslirp-dev libglib2.0-dev pkg-config";

/// Looks an executable up in PATH.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether pkg-config finds libslirp (with its glib dependency).
pub fn have_slirp() -> bool {
    Command::new("pkg-config")
        .args(["--exists", "slirp"])
        .status()
        .is_ok_and(|s| s.success())
}

fn missing() -> Vec<&'static str> {
    let mut m: Vec<&'static str> = [CROSS_CC, QEMU, crate::gdb::GDB]
        .into_iter()
        .filter(|t| find_in_path(t).is_none())
        .collect();
    if !have_slirp() {
        m.push("libslirp (pkg-config slirp)");
    }
    m
}

/// Makes sure the cross toolchain, QEMU and gdb-multiarch are installed: installs them with
/// apt when running as root, otherwise fails with the command to run.
pub fn ensure() -> Result<()> {
    let missing = missing();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing tools: {}. Install them with:\n    {APT_HINT}",
            missing.join(", ")
        );
    }
    eprintln!(
        "missing tools: {}; installing with apt-get",
        missing.join(", ")
    );
    apt(&["update"])?;
    let mut args = vec!["install", "-y"];
    args.extend_from_slice(APT_PACKAGES);
    apt(&args)?;
    let still = self::missing();
    if !still.is_empty() {
        bail!("still missing after apt-get install: {}", still.join(", "));
    }
    Ok(())
}

fn apt(args: &[&str]) -> Result<()> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!("apt-get {} failed ({status})", args.join(" "));
    }
    Ok(())
}
