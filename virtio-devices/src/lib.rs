//! virtio 1.x devices (entropy, block, console, network) behind the virtio-mmio transport, reading and writing the board's guest RAM.
//!
//! - [`queue`]: the split virtqueue (descriptor table, available and used rings), with
//!   every guest-supplied index, address and length checked;
//! - [`mmio`]: the virtio-mmio transport (register layout version 2, "modern") and the
//!   [`mmio::VirtioDevice`] trait the device models implement;
//! - [`rng`], [`blk`], [`console`], [`net`]: the device models.
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
pub mod net;
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

/// A character device backend (`-chardev`) for console output, opened once for every
/// boot.
#[derive(Clone)]
pub enum CharDev {
    Stdout,
    Null,
    File(Arc<std::fs::File>),
}

struct FileSink(Arc<std::fs::File>);

impl std::io::Write for FileSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        (&*self.0).write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        (&*self.0).flush()
    }
}

impl CharDev {
    pub fn sink(&self) -> console::Sink {
        match self {
            CharDev::Stdout => Box::new(std::io::stdout()),
            CharDev::Null => console::null_sink(),
            CharDev::File(f) => Box::new(FileSink(f.clone())),
        }
    }
}

/// A console port as configured (see [`console::PortSpec`]).
#[derive(Clone)]
pub struct PortConfig {
    pub nr: u32,
    pub name: Option<String>,
    pub chardev: CharDev,
}

/// A device to put behind a transport, as configured on the command line. Each boot of
/// the board builds fresh device state from it; disks stay open across boots.
#[derive(Clone)]
pub enum DeviceSpec {
    Rng,
    Blk {
        disk: Arc<blk::Disk>,
        serial: String,
    },
    /// virtio-serial-device with its console ports.
    Console {
        ports: Vec<PortConfig>,
    },
    /// virtio-net-device on a user-mode network.
    Net {
        net: Arc<net::UserNet>,
        mac: [u8; 6],
    },
}

impl DeviceSpec {
    /// QEMU's name for the device.
    pub fn name(&self) -> &'static str {
        match self {
            DeviceSpec::Rng => "virtio-rng-device",
            DeviceSpec::Blk { .. } => "virtio-blk-device",
            DeviceSpec::Console { .. } => "virtio-serial-device",
            DeviceSpec::Net { .. } => "virtio-net-device",
        }
    }

    pub fn build(&self) -> Box<dyn mmio::VirtioDevice> {
        match self {
            DeviceSpec::Rng => Box::new(rng::Rng::new()),
            DeviceSpec::Blk { disk, serial } => Box::new(blk::Blk::new(disk.clone(), serial)),
            DeviceSpec::Console { ports } => Box::new(console::Console::new(
                ports
                    .iter()
                    .map(|p| console::PortSpec {
                        nr: p.nr,
                        name: p.name.clone(),
                        sink: p.chardev.sink(),
                    })
                    .collect(),
            )),
            DeviceSpec::Net { net, mac } => Box::new(net::Net::new(net.clone(), *mac)),
        }
    }
}
