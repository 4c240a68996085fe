//! virtio-blk (block device, virtio 1.x section 5.2) over a raw disk image, with its
//! requests served on a device I/O thread so a vCPU never waits for the disk.
//!
//! A request is a header (`type: u32, reserved: u32, sector: u64`), data buffers and a
//! final device-writable status byte. Supported: IN, OUT, FLUSH (the image is
//! `fdatasync`ed before the request completes), GET_ID (20-byte serial), DISCARD and
//! WRITE_ZEROES (segments of `sector: u64, num_sectors: u32, flags: u32`). A read-only
//! disk offers VIRTIO_BLK_F_RO and fails writes; `snapshot` keeps every write in a
//! temporary overlay file (the image is opened read-only and never changes).

use crate::mem;
use crate::mmio::{DeviceContext, VirtioDevice};
use crate::queue::{Chain, Desc};
use crate::{Error, Result};
use crossbeam_channel::{Receiver, Sender};
use softmmu::PhysMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use virtio_bindings::virtio_blk::{
    VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO,
    VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK,
    VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
    VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_WRITE_ZEROES,
};
use virtio_bindings::virtio_ids::VIRTIO_ID_BLOCK;

pub const SECTOR_SIZE: u64 = 512;
/// QueueNumMax of the request queue.
pub const QUEUE_SIZE: u16 = 256;
/// Data segments per request (the header and status take two descriptors).
pub const SEG_MAX: u32 = QUEUE_SIZE as u32 - 2;
/// Bytes of the GET_ID answer.
pub const ID_LEN: usize = 20;
/// Largest DISCARD / WRITE_ZEROES segment, and segments per request.
pub const MAX_DISCARD_SECTORS: u32 = 1 << 22;
pub const MAX_DISCARD_SEG: u32 = 32;
/// The discard / write-zeroes flag asking to deallocate.
const WZ_UNMAP: u32 = 1;
/// Bounce buffer size between the image and guest memory.
const CHUNK: usize = 128 * 1024;

/// Offsets in the configuration space (`struct virtio_blk_config`).
pub mod cfg {
    pub const CAPACITY: usize = 0;
    pub const SEG_MAX: usize = 12;
    pub const BLK_SIZE: usize = 20;
    pub const NUM_QUEUES: usize = 34;
    pub const MAX_DISCARD_SECTORS: usize = 36;
    pub const MAX_DISCARD_SEG: usize = 40;
    pub const DISCARD_SECTOR_ALIGNMENT: usize = 44;
    pub const MAX_WRITE_ZEROES_SECTORS: usize = 48;
    pub const MAX_WRITE_ZEROES_SEG: usize = 52;
    pub const WRITE_ZEROES_MAY_UNMAP: usize = 56;
    pub const SIZE: usize = 60;
}

/// QEMU's `cache=` modes. What they change here: whether a guest FLUSH syncs the image
/// (all but `unsafe`) and whether every write is synced at once (`writethrough`,
/// `directsync`). `none` does not bypass the host page cache (no O_DIRECT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CacheMode {
    #[default]
    Writeback,
    None,
    Writethrough,
    Directsync,
    Unsafe,
}

impl CacheMode {
    pub fn from_name(s: &str) -> Option<CacheMode> {
        Some(match s {
            "writeback" => CacheMode::Writeback,
            "none" => CacheMode::None,
            "writethrough" => CacheMode::Writethrough,
            "directsync" => CacheMode::Directsync,
            "unsafe" => CacheMode::Unsafe,
            _ => return None,
        })
    }

    fn sync_each_write(self) -> bool {
        matches!(self, CacheMode::Writethrough | CacheMode::Directsync)
    }
}

/// How to open a disk image.
#[derive(Clone, Debug, Default)]
pub struct DiskOptions {
    pub path: PathBuf,
    pub readonly: bool,
    pub snapshot: bool,
    pub cache: CacheMode,
}

/// Writes kept out of the image (`snapshot=on`): a sparse temporary file of the disk's
/// size and a bitmap of the sectors written to it.
struct Overlay {
    file: File,
    written: Vec<u64>,
}

impl Overlay {
    fn is_written(&self, sector: u64) -> bool {
        self.written
            .get((sector / 64) as usize)
            .is_some_and(|w| w >> (sector % 64) & 1 != 0)
    }

    fn mark(&mut self, first: u64, count: u64) {
        for s in first..first + count {
            let i = (s / 64) as usize;
            if i >= self.written.len() {
                self.written.resize(i + 1, 0);
            }
            self.written[i] |= 1 << (s % 64);
        }
    }
}

struct DiskInner {
    image: File,
    overlay: Option<Overlay>,
}

/// A raw disk image. It outlives a board (a guest reboot keeps the same image, and
/// the same overlay with `snapshot=on`, as QEMU).
pub struct Disk {
    inner: Mutex<DiskInner>,
    len: u64,
    readonly: bool,
    cache: CacheMode,
    path: PathBuf,
}

fn io_err(what: String) -> impl FnOnce(io::Error) -> Error {
    move |err| Error::Io { what, err }
}

/// `pread` until `buf` is full or the end of the file, zero-filling past it.
fn read_full(f: &File, mut off: u64, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match f.read_at(buf, off) {
            Ok(0) => {
                buf.fill(0);
                return Ok(());
            }
            Ok(n) => {
                off += n as u64;
                buf = &mut buf[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `fallocate` on `f` (0 on success).
fn fallocate(f: &File, mode: libc::c_int, off: u64, len: u64) -> io::Result<()> {
    let (Ok(o), Ok(l)) = (libc::off_t::try_from(off), libc::off_t::try_from(len)) else {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    };
    // SAFETY: a plain system call on a descriptor we own; no memory is passed.
    let r = unsafe { libc::fallocate(f.as_raw_fd(), mode, o, l) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn write_zero_bytes(f: &File, mut off: u64, mut len: u64) -> io::Result<()> {
    let zeros = vec![0u8; CHUNK];
    while len > 0 {
        let n = len.min(CHUNK as u64) as usize;
        f.write_all_at(&zeros[..n], off)?;
        off += n as u64;
        len -= n as u64;
    }
    Ok(())
}

impl Disk {
    pub fn open(opts: &DiskOptions) -> Result<Disk> {
        let p = &opts.path;
        let writable = !opts.readonly && !opts.snapshot;
        let image = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(p)
            .map_err(io_err(format!("could not open disk image {}", p.display())))?;
        let meta = image
            .metadata()
            .map_err(io_err(format!("could not stat {}", p.display())))?;
        if meta.is_dir() {
            return Err(Error::Config(format!(
                "disk image {} is a directory",
                p.display()
            )));
        }
        let len = if meta.file_type().is_file() {
            meta.len()
        } else {
            // A block device: its size is where seeking to the end lands.
            use std::io::Seek;
            (&image)
                .seek(io::SeekFrom::End(0))
                .map_err(io_err(format!("could not size {}", p.display())))?
        };
        let overlay = if opts.snapshot {
            let file = tempfile::tempfile().map_err(io_err(
                "could not create the snapshot overlay file".to_string(),
            ))?;
            file.set_len(len)
                .map_err(io_err("could not size the snapshot overlay".to_string()))?;
            Some(Overlay {
                file,
                written: Vec::new(),
            })
        } else {
            None
        };
        Ok(Disk {
            inner: Mutex::new(DiskInner { image, overlay }),
            len,
            readonly: opts.readonly,
            cache: opts.cache,
            path: p.clone(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn readonly(&self) -> bool {
        self.readonly
    }

    /// Size in bytes (the image's length).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sectors the guest sees (a partial last sector counts; reading past the end of
    /// the file gives zeros).
    pub fn sectors(&self) -> u64 {
        self.len.div_ceil(SECTOR_SIZE)
    }

    fn lock(&self) -> MutexGuard<'_, DiskInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads at a sector-aligned byte offset.
    pub fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        let d = self.lock();
        let Some(ov) = &d.overlay else {
            return read_full(&d.image, off, buf);
        };
        // Runs of sectors from the overlay or from the image.
        let mut done = 0usize;
        while done < buf.len() {
            let pos = off + done as u64;
            let sector = pos / SECTOR_SIZE;
            let from_overlay = ov.is_written(sector);
            let mut end = done;
            while end < buf.len() {
                let s = (off + end as u64) / SECTOR_SIZE;
                if ov.is_written(s) != from_overlay {
                    break;
                }
                end = (((s + 1) * SECTOR_SIZE - off) as usize).min(buf.len());
            }
            let f = if from_overlay { &ov.file } else { &d.image };
            read_full(f, pos, &mut buf[done..end])?;
            done = end;
        }
        Ok(())
    }

    pub fn write_at(&self, off: u64, data: &[u8]) -> io::Result<()> {
        if self.readonly {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        let mut d = self.lock();
        match &mut d.overlay {
            Some(ov) => {
                ov.file.write_all_at(data, off)?;
                let first = off / SECTOR_SIZE;
                let last = (off + data.len() as u64).div_ceil(SECTOR_SIZE);
                ov.mark(first, last - first);
                Ok(())
            }
            None => {
                d.image.write_all_at(data, off)?;
                if self.cache.sync_each_write() {
                    d.image.sync_data()?;
                }
                Ok(())
            }
        }
    }

    /// Makes every completed write durable (the guest's FLUSH).
    pub fn flush(&self) -> io::Result<()> {
        let d = self.lock();
        if d.overlay.is_some() || self.cache == CacheMode::Unsafe || self.readonly {
            return Ok(());
        }
        d.image.sync_data()
    }

    /// Zeroes (and with `unmap`, tries to deallocate) a sector-aligned range.
    pub fn write_zeroes(&self, off: u64, len: u64, unmap: bool) -> io::Result<()> {
        if self.readonly {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        let mut d = self.lock();
        if let Some(ov) = &mut d.overlay {
            // The overlay is sparse: a hole reads as zeros (written zeros otherwise).
            let hole = fallocate(
                &ov.file,
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                off,
                len,
            );
            if hole.is_err() {
                write_zero_bytes(&ov.file, off, len)?;
            }
            let first = off / SECTOR_SIZE;
            ov.mark(first, len.div_ceil(SECTOR_SIZE));
            return Ok(());
        }
        let end = off.saturating_add(len).min(self.len);
        if end <= off {
            return Ok(());
        }
        let span = end - off;
        let mode = if unmap {
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE
        } else {
            libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE
        };
        if fallocate(&d.image, mode, off, span).is_err() {
            write_zero_bytes(&d.image, off, span)?;
        }
        if self.cache.sync_each_write() {
            d.image.sync_data()?;
        }
        Ok(())
    }

    /// Discards a range: a hint; the data may read back as anything afterwards (here:
    /// zeros where the host file system can punch holes, else unchanged).
    pub fn discard(&self, off: u64, len: u64) -> io::Result<()> {
        if self.readonly {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        let d = self.lock();
        if d.overlay.is_some() {
            return Ok(());
        }
        let end = off.saturating_add(len).min(self.len);
        if end > off {
            let _ = fallocate(
                &d.image,
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                off,
                end - off,
            );
        }
        Ok(())
    }
}

/// A cursor over the guest buffers of one direction of a chain.
struct Segs {
    segs: Vec<Desc>,
    i: usize,
    off: u32,
}

impl Segs {
    fn new<'a>(d: impl Iterator<Item = &'a Desc>) -> Segs {
        Segs {
            segs: d.copied().collect(),
            i: 0,
            off: 0,
        }
    }

    fn remaining(&self) -> u64 {
        self.segs
            .iter()
            .skip(self.i)
            .map(|d| u64::from(d.len))
            .sum::<u64>()
            - u64::from(self.off)
    }

    /// Calls `f(guest address, length)` for the next `n` bytes of buffers.
    fn take(&mut self, mut n: usize, mut f: impl FnMut(u64, usize) -> Result<()>) -> Result<()> {
        while n > 0 {
            let Some(d) = self.segs.get(self.i) else {
                return Err(Error::BadRequest("buffers shorter than the request".into()));
            };
            let k = ((d.len - self.off) as usize).min(n);
            if k > 0 {
                f(d.addr + u64::from(self.off), k)?;
            }
            self.off += k as u32;
            n -= k;
            if self.off == d.len {
                self.i += 1;
                self.off = 0;
            }
        }
        Ok(())
    }

    fn read(&mut self, m: &PhysMap, out: &mut [u8]) -> Result<()> {
        let mut at = 0;
        self.take(out.len(), |a, k| {
            mem::read(m, a, &mut out[at..at + k])?;
            at += k;
            Ok(())
        })
    }

    fn write(&mut self, m: &PhysMap, data: &[u8]) -> Result<()> {
        let mut at = 0;
        self.take(data.len(), |a, k| {
            mem::write(m, a, &data[at..at + k])?;
            at += k;
            Ok(())
        })
    }
}

/// Serves one request; returns the bytes written into the chain's device-writable
/// buffers (data and status). A request the device cannot even answer (no header, no
/// status byte) is an error; everything else gets a status.
pub fn handle_request(disk: &Disk, id: &[u8; ID_LEN], m: &PhysMap, chain: &Chain) -> Result<u32> {
    let mut rd = Segs::new(chain.readable());
    let mut wr = Segs::new(chain.writable());
    if rd.remaining() < 16 {
        return Err(Error::BadRequest(format!(
            "header of {} bytes (16 needed)",
            rd.remaining()
        )));
    }
    let Some(status_at) = chain
        .writable()
        .filter(|d| d.len > 0)
        .last()
        .map(|d| d.addr + u64::from(d.len) - 1)
    else {
        return Err(Error::BadRequest("no device-writable status byte".into()));
    };
    let mut hdr = [0u8; 16];
    rd.read(m, &mut hdr)?;
    let ty = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
    let sector = u64::from_le_bytes([
        hdr[8], hdr[9], hdr[10], hdr[11], hdr[12], hdr[13], hdr[14], hdr[15],
    ]);
    // Writable bytes before the status byte.
    let data_in = wr.remaining() - 1;
    let capacity = disk.sectors() * SECTOR_SIZE;
    let in_range = |off: Option<u64>, len: u64| {
        off.and_then(|o| o.checked_add(len))
            .is_some_and(|end| end <= capacity)
    };
    let start = sector.checked_mul(SECTOR_SIZE);
    let mut written = 0u64;
    let status = match ty {
        VIRTIO_BLK_T_IN => {
            if !data_in.is_multiple_of(SECTOR_SIZE) || !in_range(start, data_in) {
                VIRTIO_BLK_S_IOERR
            } else {
                let mut buf = vec![0u8; CHUNK.min(data_in as usize)];
                let mut off = start.unwrap_or(0);
                let mut left = data_in;
                let mut st = VIRTIO_BLK_S_OK;
                while left > 0 {
                    let n = left.min(CHUNK as u64) as usize;
                    if disk.read_at(off, &mut buf[..n]).is_err() {
                        st = VIRTIO_BLK_S_IOERR;
                        break;
                    }
                    wr.write(m, &buf[..n])?;
                    written += n as u64;
                    off += n as u64;
                    left -= n as u64;
                }
                st
            }
        }
        VIRTIO_BLK_T_OUT => {
            let len = rd.remaining();
            if disk.readonly() || !len.is_multiple_of(SECTOR_SIZE) || !in_range(start, len) {
                VIRTIO_BLK_S_IOERR
            } else {
                let mut buf = vec![0u8; CHUNK.min(len as usize)];
                let mut off = start.unwrap_or(0);
                let mut left = len;
                let mut st = VIRTIO_BLK_S_OK;
                while left > 0 {
                    let n = left.min(CHUNK as u64) as usize;
                    rd.read(m, &mut buf[..n])?;
                    if disk.write_at(off, &buf[..n]).is_err() {
                        st = VIRTIO_BLK_S_IOERR;
                        break;
                    }
                    off += n as u64;
                    left -= n as u64;
                }
                st
            }
        }
        VIRTIO_BLK_T_FLUSH => match disk.flush() {
            Ok(()) => VIRTIO_BLK_S_OK,
            Err(_) => VIRTIO_BLK_S_IOERR,
        },
        VIRTIO_BLK_T_GET_ID => {
            let n = (data_in as usize).min(ID_LEN);
            wr.write(m, &id[..n])?;
            written = n as u64;
            VIRTIO_BLK_S_OK
        }
        VIRTIO_BLK_T_DISCARD | VIRTIO_BLK_T_WRITE_ZEROES => {
            let len = rd.remaining();
            let n = len / 16;
            if disk.readonly() {
                VIRTIO_BLK_S_IOERR
            } else if !len.is_multiple_of(16) || n == 0 || n > u64::from(MAX_DISCARD_SEG) {
                VIRTIO_BLK_S_UNSUPP
            } else {
                let mut st = VIRTIO_BLK_S_OK;
                for _ in 0..n {
                    let mut seg = [0u8; 16];
                    rd.read(m, &mut seg)?;
                    let s = u64::from_le_bytes([
                        seg[0], seg[1], seg[2], seg[3], seg[4], seg[5], seg[6], seg[7],
                    ]);
                    let count = u32::from_le_bytes([seg[8], seg[9], seg[10], seg[11]]);
                    let flags = u32::from_le_bytes([seg[12], seg[13], seg[14], seg[15]]);
                    let off = s.checked_mul(SECTOR_SIZE);
                    let bytes = u64::from(count) * SECTOR_SIZE;
                    let allowed = if ty == VIRTIO_BLK_T_DISCARD {
                        0
                    } else {
                        WZ_UNMAP
                    };
                    if flags & !allowed != 0 || count > MAX_DISCARD_SECTORS {
                        st = VIRTIO_BLK_S_UNSUPP;
                        break;
                    }
                    if !in_range(off, bytes) {
                        st = VIRTIO_BLK_S_IOERR;
                        break;
                    }
                    let o = off.unwrap_or(0);
                    let r = if ty == VIRTIO_BLK_T_DISCARD {
                        disk.discard(o, bytes)
                    } else {
                        disk.write_zeroes(o, bytes, flags & WZ_UNMAP != 0)
                    };
                    if r.is_err() {
                        st = VIRTIO_BLK_S_IOERR;
                        break;
                    }
                }
                st
            }
        }
        _ => VIRTIO_BLK_S_UNSUPP,
    };
    mem::write(m, status_at, &[status as u8])?;
    Ok((written + 1) as u32)
}

enum Msg {
    Activate(DeviceContext),
    Notify(usize),
    Reset(Sender<()>),
}

/// The block device: configuration, and a channel to its I/O thread.
pub struct Blk {
    disk: Arc<Disk>,
    id: [u8; ID_LEN],
    /// To the I/O thread (started on first use; it ends when this is dropped: not
    /// joined, since the last reference to guest memory may be the thread's own).
    tx: Option<Sender<Msg>>,
}

impl Blk {
    /// A block device over `disk`; `serial` (at most 20 bytes used) answers GET_ID.
    pub fn new(disk: Arc<Disk>, serial: &str) -> Blk {
        let mut id = [0u8; ID_LEN];
        let s = serial.as_bytes();
        id[..s.len().min(ID_LEN)].copy_from_slice(&s[..s.len().min(ID_LEN)]);
        Blk { disk, id, tx: None }
    }

    fn config(&self) -> [u8; cfg::SIZE] {
        let mut c = [0u8; cfg::SIZE];
        let mut put = |at: usize, b: &[u8]| c[at..at + b.len()].copy_from_slice(b);
        put(cfg::CAPACITY, &self.disk.sectors().to_le_bytes());
        put(cfg::SEG_MAX, &SEG_MAX.to_le_bytes());
        put(cfg::BLK_SIZE, &(SECTOR_SIZE as u32).to_le_bytes());
        put(cfg::NUM_QUEUES, &1u16.to_le_bytes());
        put(cfg::MAX_DISCARD_SECTORS, &MAX_DISCARD_SECTORS.to_le_bytes());
        put(cfg::MAX_DISCARD_SEG, &MAX_DISCARD_SEG.to_le_bytes());
        put(cfg::DISCARD_SECTOR_ALIGNMENT, &1u32.to_le_bytes());
        put(
            cfg::MAX_WRITE_ZEROES_SECTORS,
            &MAX_DISCARD_SECTORS.to_le_bytes(),
        );
        put(cfg::MAX_WRITE_ZEROES_SEG, &MAX_DISCARD_SEG.to_le_bytes());
        put(cfg::WRITE_ZEROES_MAY_UNMAP, &[1]);
        c
    }

    fn send(&mut self, msg: Msg) {
        if self.tx.is_none() {
            let (tx, rx) = crossbeam_channel::unbounded();
            let disk = self.disk.clone();
            let id = self.id;
            match std::thread::Builder::new()
                .name("virtio-blk".into())
                .spawn(move || io_thread(rx, disk, id))
            {
                Ok(_) => self.tx = Some(tx),
                Err(e) => {
                    eprintln!("virt: cannot start the virtio-blk I/O thread: {e}");
                    return;
                }
            }
        }
        if let Some(tx) = &self.tx {
            let _ = tx.send(msg);
        }
    }
}

/// The I/O thread: serves the queue on each notification, in order; acknowledges a
/// reset once no request is in flight. Ends when the device is dropped.
fn io_thread(rx: Receiver<Msg>, disk: Arc<Disk>, id: [u8; ID_LEN]) {
    let mut ctx: Option<DeviceContext> = None;
    for msg in rx {
        match msg {
            Msg::Activate(c) => ctx = Some(c),
            Msg::Notify(q) => {
                if let Some(c) = &ctx {
                    c.process_queue(q, |m, chain| handle_request(&disk, &id, m, chain));
                }
            }
            Msg::Reset(ack) => {
                ctx = None;
                let _ = ack.send(());
            }
        }
    }
}

impl VirtioDevice for Blk {
    fn device_id(&self) -> u32 {
        VIRTIO_ID_BLOCK
    }

    fn features(&self) -> u64 {
        let mut f =
            1 << VIRTIO_BLK_F_SEG_MAX | 1 << VIRTIO_BLK_F_BLK_SIZE | 1 << VIRTIO_BLK_F_FLUSH;
        if self.disk.readonly() {
            f |= 1 << VIRTIO_BLK_F_RO;
        } else {
            f |= 1 << VIRTIO_BLK_F_DISCARD | 1 << VIRTIO_BLK_F_WRITE_ZEROES;
        }
        f
    }

    fn queue_max_sizes(&self) -> Vec<u16> {
        vec![QUEUE_SIZE]
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        crate::mmio::read_config_bytes(&self.config(), offset, data);
    }

    fn activate(&mut self, ctx: DeviceContext) {
        self.send(Msg::Activate(ctx));
    }

    fn notify(&mut self, queue: usize) {
        self.send(Msg::Notify(queue));
    }

    fn reset(&mut self) {
        if let Some(tx) = &self.tx {
            let (ack_tx, ack_rx) = crossbeam_channel::bounded(1);
            if tx.send(Msg::Reset(ack_tx)).is_ok() {
                let _ = ack_rx.recv();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::tests::{ram, DATA};
    use softmmu::PhysAddr;
    use std::io::Write;

    const HDR: u64 = DATA;
    const BUF: u64 = DATA + 0x100;
    const STATUS: u64 = DATA + 0x80;

    fn image(len: usize) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        f.write_all(&data).unwrap();
        f.flush().unwrap();
        f
    }

    fn disk(f: &tempfile::NamedTempFile, readonly: bool, snapshot: bool) -> Disk {
        Disk::open(&DiskOptions {
            path: f.path().into(),
            readonly,
            snapshot,
            cache: CacheMode::Writeback,
        })
        .unwrap()
    }

    /// Header descriptor, then `data` (readable for OUT-like, writable for IN-like),
    /// then the status byte.
    fn request(m: &PhysMap, ty: u32, sector: u64, data_len: u32, data_writable: bool) -> Chain {
        let mut h = [0u8; 16];
        h[..4].copy_from_slice(&ty.to_le_bytes());
        h[8..].copy_from_slice(&sector.to_le_bytes());
        m.write_bytes(PhysAddr(HDR), &h).unwrap();
        m.write_bytes(PhysAddr(STATUS), &[0xff]).unwrap();
        let mut descs = vec![Desc {
            addr: HDR,
            len: 16,
            write: false,
        }];
        if data_len > 0 {
            descs.push(Desc {
                addr: BUF,
                len: data_len,
                write: data_writable,
            });
        }
        descs.push(Desc {
            addr: STATUS,
            len: 1,
            write: true,
        });
        Chain { head: 0, descs }
    }

    fn status(m: &PhysMap) -> u32 {
        let mut b = [0u8];
        m.read_bytes(PhysAddr(STATUS), &mut b).unwrap();
        u32::from(b[0])
    }

    fn guest(m: &PhysMap, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        m.read_bytes(PhysAddr(BUF), &mut v).unwrap();
        v
    }

    #[test]
    fn read_write_flush_id() {
        let f = image(8192);
        let d = disk(&f, false, false);
        assert_eq!(d.sectors(), 16);
        let m = ram();
        let id = *b"serial-0123456789abc";
        // Read sectors 2..4.
        let c = request(&m, VIRTIO_BLK_T_IN, 2, 1024, true);
        assert_eq!(handle_request(&d, &id, &m, &c).unwrap(), 1025);
        assert_eq!(status(&m), VIRTIO_BLK_S_OK);
        let want: Vec<u8> = (1024..2048).map(|i| (i * 7 % 251) as u8).collect();
        assert_eq!(guest(&m, 1024), want);
        // Write sector 1, flush, read the file.
        m.write_bytes(PhysAddr(BUF), &[0xab; 512]).unwrap();
        let c = request(&m, VIRTIO_BLK_T_OUT, 1, 512, false);
        assert_eq!(handle_request(&d, &id, &m, &c).unwrap(), 1);
        assert_eq!(status(&m), VIRTIO_BLK_S_OK);
        let c = request(&m, VIRTIO_BLK_T_FLUSH, 0, 0, false);
        handle_request(&d, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_OK);
        let host = std::fs::read(f.path()).unwrap();
        assert_eq!(&host[512..1024], &[0xab; 512][..]);
        assert_eq!(host[511], (511 * 7 % 251) as u8);
        // GET_ID.
        let c = request(&m, VIRTIO_BLK_T_GET_ID, 0, 20, true);
        assert_eq!(handle_request(&d, &id, &m, &c).unwrap(), 21);
        assert_eq!(guest(&m, 20), id);
        // Past the end, unaligned lengths: IOERR; unknown type: UNSUPP.
        for (ty, sector, len, w) in [
            (VIRTIO_BLK_T_IN, 15, 1024, true),
            (VIRTIO_BLK_T_IN, u64::MAX / 2, 512, true),
            (VIRTIO_BLK_T_IN, 0, 100, true),
            (VIRTIO_BLK_T_OUT, 16, 512, false),
        ] {
            let c = request(&m, ty, sector, len, w);
            handle_request(&d, &id, &m, &c).unwrap();
            assert_eq!(status(&m), VIRTIO_BLK_S_IOERR, "{ty} {sector} {len}");
        }
        let c = request(&m, 99, 0, 0, false);
        handle_request(&d, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_UNSUPP);
        // Malformed framing: a short header, no status byte.
        let mut c = request(&m, VIRTIO_BLK_T_IN, 0, 512, true);
        c.descs[0].len = 8;
        assert!(handle_request(&d, &id, &m, &c).is_err());
        let mut c = request(&m, VIRTIO_BLK_T_OUT, 0, 512, false);
        c.descs.pop();
        assert!(handle_request(&d, &id, &m, &c).is_err());
        // A header split over two descriptors is fine.
        let mut c = request(&m, VIRTIO_BLK_T_IN, 0, 512, true);
        c.descs[0].len = 5;
        c.descs.insert(
            1,
            Desc {
                addr: HDR + 5,
                len: 11,
                write: false,
            },
        );
        handle_request(&d, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_OK);
    }

    fn segment(m: &PhysMap, sector: u64, count: u32, flags: u32) {
        let mut s = [0u8; 16];
        s[..8].copy_from_slice(&sector.to_le_bytes());
        s[8..12].copy_from_slice(&count.to_le_bytes());
        s[12..].copy_from_slice(&flags.to_le_bytes());
        m.write_bytes(PhysAddr(BUF), &s).unwrap();
    }

    #[test]
    fn discard_and_write_zeroes() {
        let f = image(8192);
        let d = disk(&f, false, false);
        let m = ram();
        let id = [0; ID_LEN];
        for unmap in [0, WZ_UNMAP] {
            segment(&m, 4 + u64::from(unmap), 1, unmap);
            let c = request(&m, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
            handle_request(&d, &id, &m, &c).unwrap();
            assert_eq!(status(&m), VIRTIO_BLK_S_OK);
        }
        let host = std::fs::read(f.path()).unwrap();
        assert_eq!(host.len(), 8192);
        assert!(host[2048..3072].iter().all(|&b| b == 0));
        assert_ne!(host[3072], 0);
        segment(&m, 8, 2, 0);
        let c = request(&m, VIRTIO_BLK_T_DISCARD, 0, 16, false);
        handle_request(&d, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_OK);
        // Flags a discard may not have, and a range past the end.
        segment(&m, 8, 2, WZ_UNMAP);
        handle_request(&d, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_UNSUPP);
        segment(&m, 15, 2, 0);
        handle_request(&d, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_IOERR);
    }

    #[test]
    fn readonly_and_snapshot_leave_the_file_alone() {
        let f = image(4096);
        let before = std::fs::read(f.path()).unwrap();
        let m = ram();
        let id = [0; ID_LEN];
        let ro = disk(&f, true, false);
        m.write_bytes(PhysAddr(BUF), &[0x55; 1024]).unwrap();
        let c = request(&m, VIRTIO_BLK_T_OUT, 0, 1024, false);
        handle_request(&ro, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_IOERR);
        let blk = Blk::new(Arc::new(ro), "");
        assert_ne!(blk.features() & 1 << VIRTIO_BLK_F_RO, 0);

        let snap = disk(&f, false, true);
        // Write sectors 1-2, zero sector 4, then read 0..8 back through the overlay.
        let c = request(&m, VIRTIO_BLK_T_OUT, 1, 1024, false);
        handle_request(&snap, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_OK);
        segment(&m, 4, 1, 0);
        let c = request(&m, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
        handle_request(&snap, &id, &m, &c).unwrap();
        let c = request(&m, VIRTIO_BLK_T_IN, 0, 4096, true);
        handle_request(&snap, &id, &m, &c).unwrap();
        assert_eq!(status(&m), VIRTIO_BLK_S_OK);
        let mut want = before.clone();
        want[512..1536].fill(0x55);
        want[2048..2560].fill(0);
        assert_eq!(guest(&m, 4096), want);
        let c = request(&m, VIRTIO_BLK_T_FLUSH, 0, 0, false);
        handle_request(&snap, &id, &m, &c).unwrap();
        assert_eq!(std::fs::read(f.path()).unwrap(), before, "image untouched");
    }

    #[test]
    fn missing_image_is_a_clear_error() {
        let e = Disk::open(&DiskOptions {
            path: "/nonexistent/disk.img".into(),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(e.to_string().contains("/nonexistent/disk.img"), "{e}");
    }
}

#[cfg(test)]
mod thread_tests {
    use super::*;
    use crate::mmio::{reg, Interrupt, VirtioMmio};
    use crate::queue::tests::{put_desc, ram, AVAIL, DATA, DESC, USED};
    use softmmu::{MmioDevice, PhysAddr};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    /// Through the transport: requests are served on the I/O thread, which fills the
    /// used ring and raises the interrupt; a reset waits for it and stops it.
    #[test]
    fn requests_complete_on_the_io_thread() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let data: Vec<u8> = (0..64 * 1024).map(|i| (i % 253) as u8).collect();
        std::fs::write(f.path(), &data).unwrap();
        let disk = Arc::new(
            Disk::open(&DiskOptions {
                path: f.path().into(),
                ..Default::default()
            })
            .unwrap(),
        );
        let mem = Arc::new(ram());
        let line = Arc::new(AtomicBool::new(false));
        let l = line.clone();
        let caller = std::thread::current().id();
        let raised_elsewhere = Arc::new(AtomicBool::new(false));
        let r = raised_elsewhere.clone();
        let irq = Arc::new(Interrupt::new(
            "blk",
            Box::new(move |v| {
                if v && std::thread::current().id() != caller {
                    r.store(true, Ordering::SeqCst);
                }
                l.store(v, Ordering::SeqCst);
            }),
            crate::quiet_logger(),
        ));
        let t = VirtioMmio::new(Box::new(Blk::new(disk, "x")), irq);
        t.attach_memory(&mem);
        let w = |o: u64, v: u64| t.write(o, 4, v);
        w(reg::STATUS, 1);
        w(reg::STATUS, 3);
        w(reg::DRIVER_FEATURES_SEL, 1);
        w(reg::DRIVER_FEATURES, 1);
        w(reg::STATUS, 0xb);
        assert_eq!(t.read(reg::STATUS, 4), 0xb);
        // Capacity in the configuration space: 128 sectors.
        assert_eq!(t.read(reg::CONFIG, 8), 128);
        w(reg::QUEUE_NUM, 8);
        w(reg::QUEUE_DESC_LOW, DESC);
        w(reg::QUEUE_DRIVER_LOW, AVAIL);
        w(reg::QUEUE_DEVICE_LOW, USED);
        w(reg::QUEUE_READY, 1);
        w(reg::STATUS, 0xf);
        // Four reads of 4 KiB: descriptors 2k (header) and 2k + 1 (data, then the
        // status byte at its end).
        for k in 0..4u16 {
            let hdr = DATA + 0x100 * u64::from(k);
            let buf = DATA + 0x1_0000 + 0x2000 * u64::from(k);
            let mut h = [0u8; 16];
            h[8..].copy_from_slice(&(u64::from(k) * 8).to_le_bytes());
            mem.write_bytes(PhysAddr(hdr), &h).unwrap();
            put_desc(&mem, DESC, 2 * k, hdr, 16, 1, 2 * k + 1);
            // 4096 bytes of data + 1 status byte in one writable buffer.
            put_desc(&mem, DESC, 2 * k + 1, buf, 4097, 2, 0);
            mem.write_bytes(
                PhysAddr(AVAIL + 4 + 2 * u64::from(k)),
                &(2 * k).to_le_bytes(),
            )
            .unwrap();
        }
        mem.write_bytes(PhysAddr(AVAIL + 2), &4u16.to_le_bytes())
            .unwrap();
        w(reg::QUEUE_NOTIFY, 0);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut idx = [0u8; 2];
            mem.read_bytes(PhysAddr(USED + 2), &mut idx).unwrap();
            if u16::from_le_bytes(idx) == 4 {
                break;
            }
            assert!(Instant::now() < deadline, "requests not completed");
            std::thread::sleep(Duration::from_millis(1));
        }
        for k in 0..4usize {
            let buf = DATA + 0x1_0000 + 0x2000 * k as u64;
            let mut got = vec![0u8; 4097];
            mem.read_bytes(PhysAddr(buf), &mut got).unwrap();
            assert_eq!(&got[..4096], &data[k * 4096..(k + 1) * 4096], "request {k}");
            assert_eq!(got[4096], VIRTIO_BLK_S_OK as u8);
        }
        assert!(line.load(Ordering::SeqCst));
        assert!(
            raised_elsewhere.load(Ordering::SeqCst),
            "raised by the I/O thread"
        );
        assert_eq!(t.read(reg::INTERRUPT_STATUS, 4), 1);
        // Reset: the thread acknowledges, the queue is gone.
        w(reg::STATUS, 0);
        assert_eq!(t.read(reg::STATUS, 4), 0);
        assert_eq!(t.read(reg::QUEUE_READY, 4), 0);
        assert!(!line.load(Ordering::SeqCst));
    }
}
