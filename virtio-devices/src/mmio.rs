//! The virtio-mmio transport, register layout version 2 ("modern", virtio 1.x section
//! 4.2.2), as a 0x200-byte MMIO window: feature negotiation, the device status state
//! machine, queue setup, notification, the interrupt status, and the device-specific
//! configuration space from 0x100.
//!
//! Locking: the transport's state is under one mutex taken by the vCPU doing the MMIO
//! access; each queue has its own mutex, shared with whoever processes it (the vCPU
//! in `notify`, or a device's I/O thread); the interrupt state has a third
//! ([`Interrupt`]), taken last. Order: transport, queue, interrupt, then the
//! interrupt controller. I/O threads never take the transport's mutex.

use crate::queue::Queue;
use crate::{Logger, Result};
use softmmu::{MmioDevice, PhysMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use virtio_bindings::virtio_config::{
    VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_DRIVER_OK,
    VIRTIO_CONFIG_S_FAILED, VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_NEEDS_RESET,
    VIRTIO_F_VERSION_1,
};
use virtio_bindings::virtio_mmio::{VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_VRING};
use virtio_bindings::virtio_ring::VIRTIO_RING_F_INDIRECT_DESC;

/// The register map (byte offsets; every register is 32 bits wide).
pub mod reg {
    pub const MAGIC_VALUE: u64 = 0x000;
    pub const VERSION: u64 = 0x004;
    pub const DEVICE_ID: u64 = 0x008;
    pub const VENDOR_ID: u64 = 0x00c;
    pub const DEVICE_FEATURES: u64 = 0x010;
    pub const DEVICE_FEATURES_SEL: u64 = 0x014;
    pub const DRIVER_FEATURES: u64 = 0x020;
    pub const DRIVER_FEATURES_SEL: u64 = 0x024;
    pub const QUEUE_SEL: u64 = 0x030;
    pub const QUEUE_NUM_MAX: u64 = 0x034;
    pub const QUEUE_NUM: u64 = 0x038;
    pub const QUEUE_READY: u64 = 0x044;
    pub const QUEUE_NOTIFY: u64 = 0x050;
    pub const INTERRUPT_STATUS: u64 = 0x060;
    pub const INTERRUPT_ACK: u64 = 0x064;
    pub const STATUS: u64 = 0x070;
    pub const QUEUE_DESC_LOW: u64 = 0x080;
    pub const QUEUE_DESC_HIGH: u64 = 0x084;
    pub const QUEUE_DRIVER_LOW: u64 = 0x090;
    pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
    pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
    pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
    pub const SHM_SEL: u64 = 0x0ac;
    pub const SHM_LEN_LOW: u64 = 0x0b0;
    pub const SHM_LEN_HIGH: u64 = 0x0b4;
    pub const SHM_BASE_LOW: u64 = 0x0b8;
    pub const SHM_BASE_HIGH: u64 = 0x0bc;
    pub const QUEUE_RESET: u64 = 0x0c0;
    pub const CONFIG_GENERATION: u64 = 0x0fc;
    /// Device-specific configuration space.
    pub const CONFIG: u64 = 0x100;
}

/// "virt" in little-endian ASCII.
pub const MAGIC: u32 = 0x7472_6976;
/// The modern (non-legacy) register layout.
pub const VERSION: u32 = 2;
/// The vendor ID QEMU's devices report ("QEMU"), so guests see what they see there.
pub const VENDOR: u32 = 0x554d_4551;
/// One transport's window.
pub const WINDOW_SIZE: u64 = 0x200;

/// The features every device gets from the transport.
pub const TRANSPORT_FEATURES: u64 = 1 << VIRTIO_F_VERSION_1 | 1 << VIRTIO_RING_F_INDIRECT_DESC;

/// A device's interrupt: the InterruptStatus bits and the line to the interrupt
/// controller (asserted while any bit is set), plus the device-error flag that shows as
/// DEVICE_NEEDS_RESET in the status register. Shared by the transport and the device's
/// I/O thread.
pub struct Interrupt {
    isr: Mutex<u32>,
    line: Box<dyn Fn(bool) + Send + Sync>,
    needs_reset: AtomicBool,
    log: Logger,
    name: String,
}

impl Interrupt {
    pub fn new(name: &str, line: Box<dyn Fn(bool) + Send + Sync>, log: Logger) -> Interrupt {
        Interrupt {
            isr: Mutex::new(0),
            line,
            needs_reset: AtomicBool::new(false),
            log,
            name: name.into(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, u32> {
        self.isr.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn raise(&self, bits: u32) {
        let mut isr = self.lock();
        *isr |= bits;
        (self.line)(true);
    }

    /// Used buffers were added to a queue.
    pub fn signal_used(&self) {
        self.raise(VIRTIO_MMIO_INT_VRING);
    }

    /// The configuration space (or DEVICE_NEEDS_RESET) changed.
    pub fn signal_config(&self) {
        self.raise(VIRTIO_MMIO_INT_CONFIG);
    }

    pub fn status(&self) -> u32 {
        *self.lock()
    }

    fn ack(&self, bits: u32) {
        let mut isr = self.lock();
        *isr &= !bits;
        if *isr == 0 {
            (self.line)(false);
        }
    }

    fn clear(&self) {
        self.needs_reset.store(false, Ordering::SeqCst);
        self.ack(u32::MAX);
    }

    /// A guest mistake the device cannot go on from: logged, DEVICE_NEEDS_RESET set, and
    /// the driver told through a configuration-change interrupt (virtio 1.x, 2.1.2).
    pub fn device_error(&self, what: &str) {
        (self.log)(&format!("{}: device error: {what}", self.name));
        if !self.needs_reset.swap(true, Ordering::SeqCst) {
            self.signal_config();
        }
    }

    /// A guest mistake the device just ignores (logged).
    pub fn guest_error(&self, what: &str) {
        (self.log)(&format!("{}: {what}", self.name));
    }

    pub fn needs_reset(&self) -> bool {
        self.needs_reset.load(Ordering::SeqCst)
    }
}

/// What a device gets when the driver sets DRIVER_OK.
#[derive(Clone)]
pub struct DeviceContext {
    /// Guest memory, weak: the memory map owns the transports.
    pub mem: Weak<PhysMap>,
    pub queues: Vec<Arc<Mutex<Queue>>>,
    pub irq: Arc<Interrupt>,
    /// The negotiated features.
    pub features: u64,
}

/// Locks a queue (a poisoned lock only means another thread panicked mid-update of
/// plain data).
pub fn lock_queue(q: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    q.lock().unwrap_or_else(|e| e.into_inner())
}

impl DeviceContext {
    /// Pops every available chain of queue `qi` and hands each to `f`, which returns the
    /// number of bytes it wrote into the chain's buffers (or an error that stops the
    /// queue with DEVICE_NEEDS_RESET); interrupts the driver if it wants one.
    pub fn process_queue(
        &self,
        qi: usize,
        mut f: impl FnMut(&PhysMap, &crate::queue::Chain) -> Result<u32>,
    ) {
        let Some(mem) = self.mem.upgrade() else {
            return;
        };
        let Some(q) = self.queues.get(qi) else {
            return;
        };
        loop {
            let mut g = lock_queue(q);
            let chain = match g.pop(&mem) {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    g.broken = true;
                    drop(g);
                    self.irq.device_error(&format!("queue {qi}: {e}"));
                    break;
                }
            };
            // The queue stays locked while the chain is served: a reset (which locks
            // it) then waits for the request in flight.
            let r = f(&mem, &chain).and_then(|len| g.add_used(&mem, chain.head, len));
            if let Err(e) = r {
                g.broken = true;
                drop(g);
                self.irq.device_error(&format!("queue {qi}: {e}"));
                break;
            }
            let notify = g.needs_interrupt(&mem);
            drop(g);
            if notify {
                self.irq.signal_used();
            }
        }
    }
}

impl DeviceContext {
    /// Puts `data` into the next available chain of queue `qi` (a receive queue) and
    /// returns it to the driver. `Ok(false)` when the driver has no buffer there now;
    /// data that does not fit is cut (callers keep messages smaller than a buffer).
    pub fn push(&self, qi: usize, data: &[u8]) -> bool {
        let Some(mem) = self.mem.upgrade() else {
            return false;
        };
        let Some(q) = self.queues.get(qi) else {
            return false;
        };
        let mut g = lock_queue(q);
        let r = g.pop(&mem).and_then(|chain| {
            let Some(chain) = chain else {
                return Ok(false);
            };
            let mut done = 0usize;
            for d in chain.writable() {
                let n = (d.len as usize).min(data.len() - done);
                crate::mem::write(&mem, d.addr, &data[done..done + n])?;
                done += n;
            }
            g.add_used(&mem, chain.head, done as u32)?;
            Ok(true)
        });
        match r {
            Ok(true) => {
                let notify = g.needs_interrupt(&mem);
                drop(g);
                if notify {
                    self.irq.signal_used();
                }
                true
            }
            Ok(false) => false,
            Err(e) => {
                g.broken = true;
                drop(g);
                self.irq.device_error(&format!("queue {qi}: {e}"));
                false
            }
        }
    }
}

/// A device model behind the transport.
pub trait VirtioDevice: Send {
    /// The virtio device ID (virtio 1.x, section 5).
    fn device_id(&self) -> u32;
    /// Device-specific feature bits (the transport adds VERSION_1 and INDIRECT_DESC).
    fn features(&self) -> u64;
    /// QueueNumMax of each queue (powers of two).
    fn queue_max_sizes(&self) -> Vec<u16>;
    /// Reads the configuration space at `offset` (the bytes past its end read as 0).
    fn read_config(&self, offset: u64, data: &mut [u8]);
    /// A driver write to the configuration space (ignored by default).
    fn write_config(&mut self, _offset: u64, _data: &[u8]) {}
    /// The driver set DRIVER_OK: the queues are live.
    fn activate(&mut self, ctx: DeviceContext);
    /// The driver notified queue `queue` (only after `activate`).
    fn notify(&mut self, queue: usize);
    /// Device reset: stop touching the queues and guest memory before returning.
    fn reset(&mut self);
}

struct State {
    device: Box<dyn VirtioDevice>,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    queue_sel: u32,
    status: u32,
    queues: Vec<Arc<Mutex<Queue>>>,
    active: bool,
    config_generation: u32,
}

/// One virtio-mmio transport with a device behind it.
pub struct VirtioMmio {
    state: Mutex<State>,
    irq: Arc<Interrupt>,
    mem: OnceLock<Weak<PhysMap>>,
}

impl VirtioMmio {
    pub fn new(device: Box<dyn VirtioDevice>, irq: Arc<Interrupt>) -> VirtioMmio {
        let queues = device
            .queue_max_sizes()
            .into_iter()
            .map(|n| Arc::new(Mutex::new(Queue::new(n))))
            .collect();
        VirtioMmio {
            state: Mutex::new(State {
                device,
                device_features_sel: 0,
                driver_features_sel: 0,
                driver_features: 0,
                queue_sel: 0,
                status: 0,
                queues,
                active: false,
                config_generation: 0,
            }),
            irq,
            mem: OnceLock::new(),
        }
    }

    /// Gives the transport the guest memory its device reads and writes (once; the map
    /// is built after its devices).
    pub fn attach_memory(&self, mem: &Arc<PhysMap>) {
        let _ = self.mem.set(Arc::downgrade(mem));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Device reset (status 0 written, or the machine stopping): the device stops, the
    /// queues and the negotiation start over, the interrupt is deasserted.
    pub fn reset(&self) {
        let mut s = self.lock();
        Self::reset_locked(&mut s, &self.irq);
    }

    fn reset_locked(s: &mut State, irq: &Interrupt) {
        s.device.reset();
        for q in &s.queues {
            lock_queue(q).reset();
        }
        s.status = 0;
        s.driver_features = 0;
        s.device_features_sel = 0;
        s.driver_features_sel = 0;
        s.queue_sel = 0;
        s.active = false;
        irq.clear();
    }

    fn device_features(s: &State) -> u64 {
        s.device.features() | TRANSPORT_FEATURES
    }

    fn selected_queue(s: &State) -> Option<&Arc<Mutex<Queue>>> {
        s.queues.get(s.queue_sel as usize)
    }

    fn read_reg(&self, s: &State, offset: u64) -> u32 {
        match offset {
            reg::MAGIC_VALUE => MAGIC,
            reg::VERSION => VERSION,
            reg::DEVICE_ID => s.device.device_id(),
            reg::VENDOR_ID => VENDOR,
            reg::DEVICE_FEATURES => match s.device_features_sel {
                0 => Self::device_features(s) as u32,
                1 => (Self::device_features(s) >> 32) as u32,
                _ => 0,
            },
            reg::QUEUE_NUM_MAX => {
                Self::selected_queue(s).map_or(0, |q| lock_queue(q).max_size.into())
            }
            reg::QUEUE_READY => Self::selected_queue(s).map_or(0, |q| lock_queue(q).ready.into()),
            reg::INTERRUPT_STATUS => self.irq.status(),
            reg::STATUS => {
                s.status
                    | if self.irq.needs_reset() {
                        VIRTIO_CONFIG_S_NEEDS_RESET
                    } else {
                        0
                    }
            }
            // No shared memory regions: length all ones.
            reg::SHM_LEN_LOW | reg::SHM_LEN_HIGH | reg::SHM_BASE_LOW | reg::SHM_BASE_HIGH => {
                u32::MAX
            }
            reg::CONFIG_GENERATION => s.config_generation,
            reg::DEVICE_FEATURES_SEL
            | reg::DRIVER_FEATURES
            | reg::DRIVER_FEATURES_SEL
            | reg::QUEUE_SEL
            | reg::QUEUE_NUM
            | reg::QUEUE_NOTIFY
            | reg::INTERRUPT_ACK
            | reg::QUEUE_DESC_LOW
            | reg::QUEUE_DESC_HIGH
            | reg::QUEUE_DRIVER_LOW
            | reg::QUEUE_DRIVER_HIGH
            | reg::QUEUE_DEVICE_LOW
            | reg::QUEUE_DEVICE_HIGH
            | reg::SHM_SEL
            | reg::QUEUE_RESET => {
                // Write-only, or readable but not offered (QueueReset needs
                // VIRTIO_F_RING_RESET): the spec leaves reads undefined; 0.
                if matches!(
                    offset,
                    reg::QUEUE_NUM
                        | reg::QUEUE_DESC_LOW
                        | reg::QUEUE_DESC_HIGH
                        | reg::QUEUE_DRIVER_LOW
                        | reg::QUEUE_DRIVER_HIGH
                        | reg::QUEUE_DEVICE_LOW
                        | reg::QUEUE_DEVICE_HIGH
                ) {
                    Self::queue_reg(s, offset)
                } else {
                    0
                }
            }
            _ => {
                self.irq
                    .guest_error(&format!("read of unknown register {offset:#x}"));
                0
            }
        }
    }

    /// The value of a queue address/size register (readable in virtio 1.x).
    fn queue_reg(s: &State, offset: u64) -> u32 {
        let Some(q) = Self::selected_queue(s) else {
            return 0;
        };
        let q = lock_queue(q);
        match offset {
            reg::QUEUE_NUM => q.size.into(),
            reg::QUEUE_DESC_LOW => q.desc_table as u32,
            reg::QUEUE_DESC_HIGH => (q.desc_table >> 32) as u32,
            reg::QUEUE_DRIVER_LOW => q.avail_ring as u32,
            reg::QUEUE_DRIVER_HIGH => (q.avail_ring >> 32) as u32,
            reg::QUEUE_DEVICE_LOW => q.used_ring as u32,
            reg::QUEUE_DEVICE_HIGH => (q.used_ring >> 32) as u32,
            _ => 0,
        }
    }

    fn write_reg(&self, s: &mut State, offset: u64, v: u32) {
        let err = |m: String| self.irq.guest_error(&m);
        match offset {
            reg::DEVICE_FEATURES_SEL => s.device_features_sel = v,
            reg::DRIVER_FEATURES_SEL => s.driver_features_sel = v,
            reg::DRIVER_FEATURES => {
                if s.status & VIRTIO_CONFIG_S_FEATURES_OK != 0 {
                    err("driver features written after FEATURES_OK".into());
                    return;
                }
                match s.driver_features_sel {
                    0 => s.driver_features = s.driver_features & !0xffff_ffff | u64::from(v),
                    1 => s.driver_features = s.driver_features & 0xffff_ffff | u64::from(v) << 32,
                    n if v != 0 => err(format!("driver features word {n} = {v:#x}")),
                    _ => {}
                }
            }
            reg::QUEUE_SEL => s.queue_sel = v,
            reg::QUEUE_NUM
            | reg::QUEUE_DESC_LOW
            | reg::QUEUE_DESC_HIGH
            | reg::QUEUE_DRIVER_LOW
            | reg::QUEUE_DRIVER_HIGH
            | reg::QUEUE_DEVICE_LOW
            | reg::QUEUE_DEVICE_HIGH => {
                let Some(q) = Self::selected_queue(s) else {
                    err(format!(
                        "queue register {offset:#x} of missing queue {}",
                        s.queue_sel
                    ));
                    return;
                };
                let mut q = lock_queue(q);
                if q.ready {
                    err(format!(
                        "queue register {offset:#x} written while queue {} is ready",
                        s.queue_sel
                    ));
                    return;
                }
                let lo = |old: u64| old & !0xffff_ffff | u64::from(v);
                let hi = |old: u64| old & 0xffff_ffff | u64::from(v) << 32;
                match offset {
                    reg::QUEUE_NUM => {
                        // Checked when the queue goes live.
                        q.size = u16::try_from(v).unwrap_or(0);
                    }
                    reg::QUEUE_DESC_LOW => q.desc_table = lo(q.desc_table),
                    reg::QUEUE_DESC_HIGH => q.desc_table = hi(q.desc_table),
                    reg::QUEUE_DRIVER_LOW => q.avail_ring = lo(q.avail_ring),
                    reg::QUEUE_DRIVER_HIGH => q.avail_ring = hi(q.avail_ring),
                    reg::QUEUE_DEVICE_LOW => q.used_ring = lo(q.used_ring),
                    _ => q.used_ring = hi(q.used_ring),
                }
            }
            reg::QUEUE_READY => {
                let Some(qa) = Self::selected_queue(s) else {
                    err(format!("QueueReady of missing queue {}", s.queue_sel));
                    return;
                };
                let mut q = lock_queue(qa);
                if v & 1 == 0 {
                    q.ready = false;
                    return;
                }
                let Some(mem) = self.mem.get().and_then(Weak::upgrade) else {
                    return;
                };
                match q.validate(&mem) {
                    Ok(()) => {
                        q.ready = true;
                        q.indirect = s.driver_features & 1 << VIRTIO_RING_F_INDIRECT_DESC != 0;
                    }
                    Err(e) => {
                        drop(q);
                        self.irq
                            .device_error(&format!("queue {}: {e}", s.queue_sel));
                    }
                }
            }
            reg::QUEUE_NOTIFY => {
                // With VIRTIO_F_NOTIFICATION_DATA (not offered) the high bits would carry
                // more; here the value is the queue index.
                let qi = (v & 0xffff) as usize;
                if qi >= s.queues.len() {
                    err(format!("notify of missing queue {qi}"));
                } else if s.active && !self.irq.needs_reset() {
                    s.device.notify(qi);
                }
            }
            reg::INTERRUPT_ACK => self.irq.ack(v),
            reg::STATUS => self.write_status(s, v),
            reg::SHM_SEL | reg::QUEUE_RESET => {}
            _ => err(format!(
                "write of {v:#x} to read-only or unknown register {offset:#x}"
            )),
        }
    }

    /// The device status state machine (virtio 1.x, 2.1 and 3.1.1).
    fn write_status(&self, s: &mut State, v: u32) {
        if v == 0 {
            Self::reset_locked(s, &self.irq);
            return;
        }
        let old = s.status;
        if old & !v != 0 {
            self.irq.guest_error(&format!(
                "status {v:#x} clears bits of {old:#x} without a reset"
            ));
            return;
        }
        let set = v & !old;
        let mut new = v;
        if set & VIRTIO_CONFIG_S_FEATURES_OK != 0 {
            let offered = Self::device_features(s);
            let extra = s.driver_features & !offered;
            let ok = extra == 0
                && s.driver_features & 1 << VIRTIO_F_VERSION_1 != 0
                && old & VIRTIO_CONFIG_S_DRIVER != 0;
            if !ok {
                self.irq.guest_error(&format!(
                    "FEATURES_OK refused: driver features {:#x}, offered {offered:#x} \
                     (VERSION_1 is required)",
                    s.driver_features
                ));
                new &= !VIRTIO_CONFIG_S_FEATURES_OK;
            }
        }
        if set & VIRTIO_CONFIG_S_DRIVER_OK != 0 {
            let needed =
                VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
            if new & needed != needed {
                self.irq
                    .guest_error(&format!("DRIVER_OK in status {v:#x} before FEATURES_OK"));
                new &= !VIRTIO_CONFIG_S_DRIVER_OK;
            } else if !s.active {
                if let Some(mem) = self.mem.get() {
                    s.active = true;
                    let ctx = DeviceContext {
                        mem: mem.clone(),
                        queues: s.queues.clone(),
                        irq: self.irq.clone(),
                        features: s.driver_features,
                    };
                    s.device.activate(ctx);
                }
            }
        }
        if set & VIRTIO_CONFIG_S_FAILED != 0 {
            self.irq
                .guest_error("the driver gave up on the device (FAILED)");
        }
        s.status = new;
    }
}

/// Little-endian bytes of `size` (1, 2, 4, 8) as a register value.
fn le_value(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
    u64::from_le_bytes(b)
}

impl MmioDevice for VirtioMmio {
    fn read(&self, offset: u64, size: u32) -> u64 {
        let s = self.lock();
        if offset >= reg::CONFIG {
            let mut b = vec![0u8; size.min(8) as usize];
            s.device.read_config(offset - reg::CONFIG, &mut b);
            return le_value(&b);
        }
        if size != 4 || !offset.is_multiple_of(4) {
            self.irq.guest_error(&format!(
                "{size}-byte read at register offset {offset:#x} (registers are 32-bit)"
            ));
            return 0;
        }
        u64::from(self.read_reg(&s, offset))
    }

    fn write(&self, offset: u64, size: u32, value: u64) {
        let mut s = self.lock();
        if offset >= reg::CONFIG {
            let b = value.to_le_bytes();
            s.device
                .write_config(offset - reg::CONFIG, &b[..size.min(8) as usize]);
            return;
        }
        if size != 4 || !offset.is_multiple_of(4) {
            self.irq.guest_error(&format!(
                "{size}-byte write at register offset {offset:#x} (registers are 32-bit)"
            ));
            return;
        }
        self.write_reg(&mut s, offset, value as u32);
    }
}

/// A transport slot with no device: reads as device ID 0, which drivers skip.
pub struct EmptyTransport;

impl MmioDevice for EmptyTransport {
    fn read(&self, offset: u64, size: u32) -> u64 {
        if size != 4 {
            return 0;
        }
        match offset {
            reg::MAGIC_VALUE => MAGIC.into(),
            reg::VERSION => VERSION.into(),
            reg::VENDOR_ID => VENDOR.into(),
            _ => 0,
        }
    }

    fn write(&self, _offset: u64, _size: u32, _value: u64) {}
}

/// Copies the bytes of a configuration structure at `offset` into `data` (zero past
/// its end).
pub fn read_config_bytes(config: &[u8], offset: u64, data: &mut [u8]) {
    for (i, b) in data.iter_mut().enumerate() {
        *b = usize::try_from(offset)
            .ok()
            .and_then(|o| o.checked_add(i))
            .and_then(|o| config.get(o))
            .copied()
            .unwrap_or(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::tests::{publish, put_desc, ram, AVAIL, DATA, DESC, USED};
    use softmmu::PhysAddr;
    use std::sync::atomic::AtomicBool;

    struct Rig {
        t: VirtioMmio,
        mem: Arc<PhysMap>,
        line: Arc<AtomicBool>,
        log: Arc<Mutex<Vec<String>>>,
    }

    fn rig() -> Rig {
        let mem = Arc::new(ram());
        let line = Arc::new(AtomicBool::new(false));
        let l = line.clone();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lg = log.clone();
        let irq = Arc::new(Interrupt::new(
            "virtio-rng",
            Box::new(move |v| l.store(v, Ordering::SeqCst)),
            Arc::new(move |m: &str| lg.lock().unwrap().push(m.to_string())),
        ));
        let t = VirtioMmio::new(Box::new(crate::rng::Rng::new()), irq);
        t.attach_memory(&mem);
        Rig { t, mem, line, log }
    }

    impl Rig {
        fn r(&self, off: u64) -> u32 {
            self.t.read(off, 4) as u32
        }
        fn w(&self, off: u64, v: u32) {
            self.t.write(off, 4, u64::from(v))
        }
        /// The driver's side of initialisation up to FEATURES_OK (virtio 1.x, 3.1.1).
        fn negotiate(&self, features: u64) -> u32 {
            self.w(reg::STATUS, 0);
            self.w(reg::STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
            self.w(
                reg::STATUS,
                VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER,
            );
            self.w(reg::DRIVER_FEATURES_SEL, 0);
            self.w(reg::DRIVER_FEATURES, features as u32);
            self.w(reg::DRIVER_FEATURES_SEL, 1);
            self.w(reg::DRIVER_FEATURES, (features >> 32) as u32);
            self.w(reg::STATUS, 0xb);
            self.r(reg::STATUS)
        }
        fn setup_queue(&self, size: u32, desc: u64) {
            self.w(reg::QUEUE_SEL, 0);
            self.w(reg::QUEUE_NUM, size);
            self.w(reg::QUEUE_DESC_LOW, desc as u32);
            self.w(reg::QUEUE_DESC_HIGH, (desc >> 32) as u32);
            self.w(reg::QUEUE_DRIVER_LOW, AVAIL as u32);
            self.w(reg::QUEUE_DRIVER_HIGH, 0);
            self.w(reg::QUEUE_DEVICE_LOW, USED as u32);
            self.w(reg::QUEUE_DEVICE_HIGH, 0);
            self.w(reg::QUEUE_READY, 1);
        }
    }

    #[test]
    fn identification_and_features() {
        let r = rig();
        assert_eq!(r.r(reg::MAGIC_VALUE), MAGIC);
        assert_eq!(r.r(reg::VERSION), 2);
        assert_eq!(r.r(reg::DEVICE_ID), 4);
        assert_eq!(r.r(reg::VENDOR_ID), VENDOR);
        r.w(reg::DEVICE_FEATURES_SEL, 0);
        assert_eq!(r.r(reg::DEVICE_FEATURES), 1 << VIRTIO_RING_F_INDIRECT_DESC);
        r.w(reg::DEVICE_FEATURES_SEL, 1);
        assert_eq!(r.r(reg::DEVICE_FEATURES), 1, "VERSION_1 is bit 32");
        r.w(reg::DEVICE_FEATURES_SEL, 2);
        assert_eq!(r.r(reg::DEVICE_FEATURES), 0);
        assert_eq!(r.r(reg::QUEUE_NUM_MAX), u32::from(crate::rng::QUEUE_SIZE));
        r.w(reg::QUEUE_SEL, 1);
        assert_eq!(r.r(reg::QUEUE_NUM_MAX), 0, "no second queue");
        // A legacy-only driver (no VERSION_1) is refused FEATURES_OK.
        assert_eq!(r.negotiate(0) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
        // So is one asking for a feature not offered.
        assert_eq!(
            r.negotiate(1 << 32 | 1 << 5) & VIRTIO_CONFIG_S_FEATURES_OK,
            0
        );
        assert_eq!(r.negotiate(1 << 32 | 1 << VIRTIO_RING_F_INDIRECT_DESC), 0xb);
        // Features cannot change after FEATURES_OK.
        r.w(reg::DRIVER_FEATURES_SEL, 0);
        r.w(reg::DRIVER_FEATURES, 0);
        assert!(r
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.contains("after FEATURES_OK")));
        // Clearing a bit without a reset is refused.
        r.w(reg::STATUS, 0x3);
        assert_eq!(r.r(reg::STATUS), 0xb);
        // Wrong-sized register access: logged, reads 0.
        assert_eq!(r.t.read(reg::MAGIC_VALUE, 2), 0);
        assert_eq!(EmptyTransport.read(reg::DEVICE_ID, 4), 0);
        assert_eq!(EmptyTransport.read(reg::MAGIC_VALUE, 4), u64::from(MAGIC));
    }

    #[test]
    fn queue_setup_notify_interrupt_and_reset() {
        let r = rig();
        assert_eq!(r.negotiate(1 << 32), 0xb);
        r.setup_queue(8, DESC);
        assert_eq!(r.r(reg::QUEUE_READY), 1);
        assert_eq!(r.r(reg::QUEUE_NUM), 8);
        assert_eq!(r.r(reg::QUEUE_DESC_LOW), DESC as u32);
        // Writes to a live queue's registers are ignored.
        r.w(reg::QUEUE_NUM, 4);
        assert_eq!(r.r(reg::QUEUE_NUM), 8);
        r.w(reg::STATUS, 0xf);
        assert_eq!(r.r(reg::STATUS), 0xf);
        // A 32-byte buffer for entropy.
        r.mem.write_bytes(PhysAddr(DATA), &[0; 32]).unwrap();
        put_desc(&r.mem, DESC, 2, DATA, 32, 2, 0);
        let q = queue_view();
        publish(&r.mem, &q, 0, 2);
        r.w(reg::QUEUE_NOTIFY, 0);
        let mut got = [0u8; 32];
        r.mem.read_bytes(PhysAddr(DATA), &mut got).unwrap();
        assert_ne!(got, [0; 32], "random bytes written");
        let mut used = [0u8; 12];
        r.mem.read_bytes(PhysAddr(USED), &mut used).unwrap();
        assert_eq!(u16::from_le_bytes([used[2], used[3]]), 1, "used idx");
        assert_eq!(u32::from_le_bytes(used[8..12].try_into().unwrap()), 32);
        assert_eq!(r.r(reg::INTERRUPT_STATUS), 1);
        assert!(r.line.load(Ordering::SeqCst));
        r.w(reg::INTERRUPT_ACK, 1);
        assert_eq!(r.r(reg::INTERRUPT_STATUS), 0);
        assert!(!r.line.load(Ordering::SeqCst));
        // Reset: status 0, queue not ready, registers back to defaults.
        r.w(reg::STATUS, 0);
        assert_eq!(r.r(reg::STATUS), 0);
        assert_eq!(r.r(reg::QUEUE_READY), 0);
        assert_eq!(r.r(reg::QUEUE_DESC_LOW), 0);
    }

    /// The queue as the driver laid it out (for the test helpers).
    fn queue_view() -> Queue {
        crate::queue::tests::queue(8)
    }

    #[test]
    fn bad_rings_and_chains_need_reset() {
        let r = rig();
        assert_eq!(r.negotiate(1 << 32), 0xb);
        // A descriptor table outside RAM.
        r.setup_queue(8, 0x1000);
        assert_eq!(r.r(reg::QUEUE_READY), 0);
        assert_ne!(r.r(reg::STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
        assert_eq!(r.r(reg::INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
        assert!(r
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.contains("device error")));
        // After a reset, a looping chain: device error again, the machine goes on.
        assert_eq!(r.negotiate(1 << 32), 0xb);
        assert_eq!(r.r(reg::STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
        r.setup_queue(8, DESC);
        r.w(reg::STATUS, 0xf);
        put_desc(&r.mem, DESC, 0, DATA, 4, 3, 1);
        put_desc(&r.mem, DESC, 1, DATA, 4, 3, 0);
        publish(&r.mem, &queue_view(), 0, 0);
        r.w(reg::QUEUE_NOTIFY, 0);
        assert_ne!(r.r(reg::STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
        assert!(r.log.lock().unwrap().iter().any(|m| m.contains("loop")));
        // Further notifications are ignored until the reset.
        r.w(reg::QUEUE_NOTIFY, 0);
        r.w(reg::STATUS, 0);
        assert_eq!(r.r(reg::STATUS), 0);
        assert_eq!(r.r(reg::INTERRUPT_STATUS), 0);
    }
}
