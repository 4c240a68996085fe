//! virtio 1.x devices (entropy, block, console) behind the virtio-mmio transport, reading and writing the board's guest RAM.
//!
//! - [`queue`]: the split virtqueue (descriptor table, available and used rings), with
//!   every guest-supplied index, address and length checked;
//! - [`mmio`]: the virtio-mmio transport (register layout version 2, "modern") and the
//!   [`mmio::VirtioDevice`] trait the device models implement;
//! - [`rng`], [`blk`], [`console`]: the device models.
//!
//! The ring handling is our own rather than the `virtio-queue` crate: that crate ends a
//! descriptor chain silently on a loop, an out-of-range index or an unreadable
//! descriptor, so a device cannot tell a malformed chain from a complete one, and the
//! board must turn those into a device error (`DEVICE_NEEDS_RESET`, logged under
//! `-d guest_errors`). Constants come from `virtio-bindings`.

pub mod blk;
pub mod console;
mod mem;
pub mod mmio;
pub mod queue;
pub mod rng;

use std::fmt;
use std::sync::Arc;

/// Everything that can go wrong in this crate: guest mistakes (a bad ring or descriptor
/// chain, a malformed request) and host-side failures (a disk image that cannot be used).
#[derive(Debug)]
pub enum Error {
    /// A descriptor index at or past the end of its table.
    DescIndex { index: u32, table_len: u32 },
    /// A chain that visits more descriptors than its table holds (a loop).
    ChainLoop { limit: u32 },
    /// A chain whose buffers add up to more than 4 GiB.
    ChainTooLong,
    /// A buffer or ring outside guest RAM (or misaligned, for a ring).
    GuestMemory { addr: u64, len: u64 },
    /// An indirect descriptor that breaks the rules (nested, with NEXT, bad length,
    /// or not negotiated).
    BadIndirect(&'static str),
    /// A device-readable descriptor after a device-writable one.
    ReadAfterWrite,
    /// The available index moved by more than the queue size.
    AvailIndex { avail: u16, next: u16, size: u16 },
    /// Queue registers that do not describe a usable queue.
    BadQueue(String),
    /// A request whose framing the device cannot use (too short header, no status byte).
    BadRequest(String),
    /// A host file operation failed.
    Io { what: String, err: std::io::Error },
    /// A device configuration (from the command line) that cannot be honoured.
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DescIndex { index, table_len } => write!(
                f,
                "descriptor index {index} out of range (table of {table_len})"
            ),
            Error::ChainLoop { limit } => write!(
                f,
                "descriptor chain longer than its table ({limit}): a loop"
            ),
            Error::ChainTooLong => write!(f, "descriptor chain longer than 4 GiB"),
            Error::GuestMemory { addr, len } => write!(
                f,
                "guest buffer {addr:#x}+{len:#x} is not (aligned) guest RAM"
            ),
            Error::BadIndirect(why) => write!(f, "bad indirect descriptor: {why}"),
            Error::ReadAfterWrite => {
                write!(f, "device-readable descriptor after a device-writable one")
            }
            Error::AvailIndex { avail, next, size } => write!(
                f,
                "available index {avail} is more than the queue size {size} ahead of {next}"
            ),
            Error::BadQueue(m) => write!(f, "bad queue setup: {m}"),
            Error::BadRequest(m) => write!(f, "bad request: {m}"),
            Error::Io { what, err } => write!(f, "{what}: {err}"),
            Error::Config(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Where devices report guest errors (`-d guest_errors`): one line, no newline.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// A logger that drops every message (tests, or `-d guest_errors` off).
pub fn quiet_logger() -> Logger {
    Arc::new(|_| {})
}
