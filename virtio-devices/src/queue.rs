//! The split virtqueue (virtio 1.x, section 2.7): a descriptor table, the available ring
//! the driver fills and the used ring the device fills, all in guest RAM.
//!
//! Layouts (little-endian):
//! - descriptor (16 bytes, 16-aligned table): `addr: u64, len: u32, flags: u16, next: u16`;
//! - available ring (2-aligned): `flags: u16, idx: u16, ring: [u16; size]` (+ `used_event`);
//! - used ring (4-aligned): `flags: u16, idx: u16, ring: [{id: u32, len: u32}; size]`
//!   (+ `avail_event`).
//!
//! Everything the guest wrote is checked before use: indices against the table, buffers
//! against guest RAM, chains for loops (a chain may not visit more descriptors than its
//! table holds), the 4 GiB total, the indirect-descriptor rules and the order
//! (device-readable buffers before device-writable ones). A violation is an [`Error`];
//! the transport turns it into `DEVICE_NEEDS_RESET` and the queue stops.

use crate::mem;
use crate::{Error, Result};
use softmmu::PhysMap;
use std::sync::atomic::{fence, Ordering};
use virtio_bindings::virtio_ring::{
    VRING_AVAIL_F_NO_INTERRUPT, VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE,
};

/// Size of one descriptor in the table.
pub const DESC_SIZE: u64 = 16;
/// Alignments required of the three areas (virtio 1.x, 2.7 "Virtqueue Alignment").
pub const DESC_ALIGN: u64 = 16;
pub const AVAIL_ALIGN: u64 = 2;
pub const USED_ALIGN: u64 = 4;
/// Offsets inside the rings.
const RING_IDX: u64 = 2;
const RING_ENTRIES: u64 = 4;
const USED_ENTRY_SIZE: u64 = 8;

/// One buffer of a descriptor chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Desc {
    pub addr: u64,
    pub len: u32,
    /// Device-writable (the device fills it) rather than device-readable.
    pub write: bool,
}

/// A validated descriptor chain: its head index (what goes back in the used ring) and
/// its buffers, the device-readable ones first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    pub head: u16,
    pub descs: Vec<Desc>,
}

impl Chain {
    pub fn readable(&self) -> impl Iterator<Item = &Desc> {
        self.descs.iter().filter(|d| !d.write)
    }

    pub fn writable(&self) -> impl Iterator<Item = &Desc> {
        self.descs.iter().filter(|d| d.write)
    }

    pub fn readable_len(&self) -> u64 {
        self.readable().map(|d| u64::from(d.len)).sum()
    }

    pub fn writable_len(&self) -> u64 {
        self.writable().map(|d| u64::from(d.len)).sum()
    }
}

/// One virtqueue's registers (as the driver set them through the transport) and the
/// device's position in its rings.
#[derive(Clone, Debug)]
pub struct Queue {
    /// QueueNumMax: the largest size the device supports (a power of two).
    pub max_size: u16,
    /// QueueNum: the size the driver chose.
    pub size: u16,
    /// QueueReady.
    pub ready: bool,
    pub desc_table: u64,
    pub avail_ring: u64,
    pub used_ring: u64,
    /// VIRTIO_RING_F_INDIRECT_DESC was negotiated.
    pub indirect: bool,
    /// A device error stopped the queue until the next reset.
    pub broken: bool,
    next_avail: u16,
    next_used: u16,
}

impl Queue {
    pub fn new(max_size: u16) -> Queue {
        Queue {
            max_size,
            size: max_size,
            ready: false,
            desc_table: 0,
            avail_ring: 0,
            used_ring: 0,
            indirect: false,
            broken: false,
            next_avail: 0,
            next_used: 0,
        }
    }

    /// Back to the state after a device reset.
    pub fn reset(&mut self) {
        *self = Queue::new(self.max_size);
    }

    /// Checks the driver's setup before the queue goes live (QueueReady = 1).
    pub fn validate(&self, mem: &PhysMap) -> Result<()> {
        let size = u64::from(self.size);
        if self.size == 0 || self.size > self.max_size || !self.size.is_power_of_two() {
            return Err(Error::BadQueue(format!(
                "size {} (maximum {}, a power of two)",
                self.size, self.max_size
            )));
        }
        let areas = [
            (
                "descriptor table",
                self.desc_table,
                DESC_ALIGN,
                DESC_SIZE * size,
            ),
            (
                "available ring",
                self.avail_ring,
                AVAIL_ALIGN,
                RING_ENTRIES + 2 * size + 2,
            ),
            (
                "used ring",
                self.used_ring,
                USED_ALIGN,
                RING_ENTRIES + USED_ENTRY_SIZE * size + 2,
            ),
        ];
        for (what, addr, align, len) in areas {
            if addr % align != 0 || !mem::is_ram(mem, addr, len) {
                return Err(Error::BadQueue(format!(
                    "{what} at {addr:#x} (+{len:#x}) is not {align}-aligned guest RAM"
                )));
            }
        }
        Ok(())
    }

    /// Whether the device may use the queue.
    pub fn usable(&self) -> bool {
        self.ready && !self.broken && self.size != 0
    }

    /// The next available chain, or `None` when the driver has made none available.
    pub fn pop(&mut self, mem: &PhysMap) -> Result<Option<Chain>> {
        if !self.usable() {
            return Ok(None);
        }
        let avail = mem::load_u16_acquire(mem, self.avail_ring + RING_IDX)?;
        let pending = avail.wrapping_sub(self.next_avail);
        if pending == 0 {
            return Ok(None);
        }
        if pending > self.size {
            return Err(Error::AvailIndex {
                avail,
                next: self.next_avail,
                size: self.size,
            });
        }
        let slot = u64::from(self.next_avail % self.size);
        let head = mem::read_u16(mem, self.avail_ring + RING_ENTRIES + 2 * slot)?;
        let chain = self.walk(mem, head)?;
        self.next_avail = self.next_avail.wrapping_add(1);
        Ok(Some(chain))
    }

    /// Reads and checks the chain starting at descriptor `head`.
    pub fn walk(&self, mem: &PhysMap, head: u16) -> Result<Chain> {
        let mut chain = Chain {
            head,
            descs: Vec::new(),
        };
        let mut table = self.desc_table;
        let mut table_len = u32::from(self.size);
        let mut index = u32::from(head);
        let mut visited = 0u32;
        let mut in_indirect = false;
        let mut total = 0u64;
        let mut seen_write = false;
        loop {
            if index >= table_len {
                return Err(Error::DescIndex { index, table_len });
            }
            visited += 1;
            if visited > table_len {
                return Err(Error::ChainLoop { limit: table_len });
            }
            let mut raw = [0u8; DESC_SIZE as usize];
            mem::read(mem, table + DESC_SIZE * u64::from(index), &mut raw)?;
            let addr = u64::from_le_bytes(raw[0..8].try_into().unwrap_or_default());
            let len = u32::from_le_bytes(raw[8..12].try_into().unwrap_or_default());
            let flags = u32::from(u16::from_le_bytes([raw[12], raw[13]]));
            let next = u32::from(u16::from_le_bytes([raw[14], raw[15]]));
            if flags & VRING_DESC_F_INDIRECT != 0 {
                if !self.indirect {
                    return Err(Error::BadIndirect(
                        "VIRTIO_RING_F_INDIRECT_DESC not negotiated",
                    ));
                }
                if in_indirect {
                    return Err(Error::BadIndirect("inside an indirect table"));
                }
                if flags & VRING_DESC_F_NEXT != 0 {
                    return Err(Error::BadIndirect("with VIRTQ_DESC_F_NEXT"));
                }
                if len == 0 || u64::from(len) % DESC_SIZE != 0 {
                    return Err(Error::BadIndirect("length not a non-zero multiple of 16"));
                }
                let entries = u64::from(len) / DESC_SIZE;
                // A chain may not be longer than the queue (virtio 1.1, 2.7.5.3.1).
                if entries > u64::from(self.size) {
                    return Err(Error::BadIndirect("table larger than the queue"));
                }
                if !chain.descs.is_empty() {
                    return Err(Error::BadIndirect("after other descriptors"));
                }
                if !mem::is_ram(mem, addr, u64::from(len)) || addr % DESC_ALIGN != 0 {
                    return Err(Error::GuestMemory {
                        addr,
                        len: u64::from(len),
                    });
                }
                table = addr;
                table_len = entries as u32;
                index = 0;
                visited = 0;
                in_indirect = true;
                continue;
            }
            let write = flags & VRING_DESC_F_WRITE != 0;
            if !write && seen_write {
                return Err(Error::ReadAfterWrite);
            }
            seen_write |= write;
            total += u64::from(len);
            if total > u64::from(u32::MAX) {
                return Err(Error::ChainTooLong);
            }
            if !mem::is_ram(mem, addr, u64::from(len)) {
                return Err(Error::GuestMemory {
                    addr,
                    len: u64::from(len),
                });
            }
            chain.descs.push(Desc { addr, len, write });
            if flags & VRING_DESC_F_NEXT == 0 {
                return Ok(chain);
            }
            index = next;
        }
    }

    /// Returns chain `head` to the driver with `len` bytes written into its buffers.
    pub fn add_used(&mut self, mem: &PhysMap, head: u16, len: u32) -> Result<()> {
        if !self.usable() {
            return Ok(());
        }
        let slot = u64::from(self.next_used % self.size);
        let mut entry = [0u8; USED_ENTRY_SIZE as usize];
        entry[..4].copy_from_slice(&u32::from(head).to_le_bytes());
        entry[4..].copy_from_slice(&len.to_le_bytes());
        mem::write(
            mem,
            self.used_ring + RING_ENTRIES + USED_ENTRY_SIZE * slot,
            &entry,
        )?;
        self.next_used = self.next_used.wrapping_add(1);
        mem::store_u16_release(mem, self.used_ring + RING_IDX, self.next_used)
    }

    /// After [`add_used`](Self::add_used): whether the driver wants an interrupt (it did
    /// not set VIRTQ_AVAIL_F_NO_INTERRUPT).
    pub fn needs_interrupt(&self, mem: &PhysMap) -> bool {
        // The used index store must be visible before the flags are read (else the
        // driver may re-enable interrupts, see no new entry, and sleep).
        fence(Ordering::SeqCst);
        match mem::load_u16_acquire(mem, self.avail_ring) {
            Ok(flags) => u32::from(flags) & VRING_AVAIL_F_NO_INTERRUPT == 0,
            Err(_) => true,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use softmmu::PhysAddr;

    pub const RAM: u64 = 0x4000_0000;
    pub const RAM_SIZE: u64 = 0x10_0000;
    pub const DESC: u64 = RAM;
    pub const AVAIL: u64 = RAM + 0x1000;
    pub const USED: u64 = RAM + 0x2000;
    pub const DATA: u64 = RAM + 0x1_0000;

    pub fn ram() -> PhysMap {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(RAM), RAM_SIZE).unwrap();
        m
    }

    pub fn queue(size: u16) -> Queue {
        let mut q = Queue::new(size);
        q.desc_table = DESC;
        q.avail_ring = AVAIL;
        q.used_ring = USED;
        q.ready = true;
        q.indirect = true;
        q
    }

    pub fn put_desc(m: &PhysMap, table: u64, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let mut b = [0u8; 16];
        b[0..8].copy_from_slice(&addr.to_le_bytes());
        b[8..12].copy_from_slice(&len.to_le_bytes());
        b[12..14].copy_from_slice(&flags.to_le_bytes());
        b[14..16].copy_from_slice(&next.to_le_bytes());
        m.write_bytes(PhysAddr(table + 16 * u64::from(i)), &b)
            .unwrap();
    }

    /// Makes chain `head` available in slot `avail_idx` and publishes the index.
    pub fn publish(m: &PhysMap, q: &Queue, avail_idx: u16, head: u16) {
        let slot = u64::from(avail_idx % q.size);
        m.write_bytes(PhysAddr(AVAIL + 4 + 2 * slot), &head.to_le_bytes())
            .unwrap();
        m.write_bytes(
            PhysAddr(AVAIL + 2),
            &avail_idx.wrapping_add(1).to_le_bytes(),
        )
        .unwrap();
    }

    const N: u16 = VRING_DESC_F_NEXT as u16;
    const W: u16 = VRING_DESC_F_WRITE as u16;
    const I: u16 = VRING_DESC_F_INDIRECT as u16;

    #[test]
    fn direct_and_indirect_chains() {
        let m = ram();
        let mut q = queue(8);
        q.validate(&m).unwrap();
        assert_eq!(q.pop(&m).unwrap(), None, "nothing available");
        put_desc(&m, DESC, 3, DATA, 16, N, 5);
        put_desc(&m, DESC, 5, DATA + 0x100, 512, N | W, 1);
        put_desc(&m, DESC, 1, DATA + 0x400, 1, W, 0);
        publish(&m, &q, 0, 3);
        let c = q.pop(&m).unwrap().unwrap();
        assert_eq!(c.head, 3);
        assert_eq!(c.readable_len(), 16);
        assert_eq!(c.writable_len(), 513);
        assert_eq!(c.descs.len(), 3);
        q.add_used(&m, c.head, 513).unwrap();
        let mut used = [0u8; 12];
        m.read_bytes(PhysAddr(USED + 2), &mut used[..2]).unwrap();
        m.read_bytes(PhysAddr(USED + 4), &mut used[4..]).unwrap();
        assert_eq!(u16::from_le_bytes([used[0], used[1]]), 1);
        assert_eq!(u32::from_le_bytes(used[4..8].try_into().unwrap()), 3);
        assert_eq!(u32::from_le_bytes(used[8..12].try_into().unwrap()), 513);
        // Indirect: descriptor 0 points at a 2-entry table.
        let table = DATA + 0x1000;
        put_desc(&m, DESC, 0, table, 32, I, 0);
        put_desc(&m, table, 0, DATA, 8, N, 1);
        put_desc(&m, table, 1, DATA + 8, 8, W, 0);
        publish(&m, &q, 1, 0);
        let c = q.pop(&m).unwrap().unwrap();
        assert_eq!(c.descs.len(), 2);
        assert!(!c.descs[0].write && c.descs[1].write);
        assert!(q.needs_interrupt(&m));
        m.write_bytes(PhysAddr(AVAIL), &1u16.to_le_bytes()).unwrap();
        assert!(!q.needs_interrupt(&m));
    }

    fn pop_err(m: &PhysMap, q: &mut Queue) -> Error {
        match q.pop(m) {
            Err(e) => e,
            Ok(c) => panic!("expected an error, got {c:?}"),
        }
    }

    #[test]
    fn hostile_chains_are_errors() {
        let m = ram();
        let mut q = queue(8);
        // A loop: 0 -> 1 -> 0.
        put_desc(&m, DESC, 0, DATA, 4, N, 1);
        put_desc(&m, DESC, 1, DATA, 4, N, 0);
        publish(&m, &q, 0, 0);
        assert!(matches!(pop_err(&m, &mut q), Error::ChainLoop { .. }));
        // Index out of the table.
        let mut q = queue(8);
        put_desc(&m, DESC, 0, DATA, 4, N, 8);
        publish(&m, &q, 0, 0);
        assert!(matches!(
            pop_err(&m, &mut q),
            Error::DescIndex { index: 8, .. }
        ));
        // Head out of the table.
        let mut q = queue(8);
        publish(&m, &q, 0, 200);
        assert!(matches!(
            pop_err(&m, &mut q),
            Error::DescIndex { index: 200, .. }
        ));
        // A buffer outside RAM, and one straddling its end.
        for (addr, len) in [(0x1000, 4), (RAM + RAM_SIZE - 2, 4), (u64::MAX - 1, 4)] {
            let mut q = queue(8);
            put_desc(&m, DESC, 0, addr, len, 0, 0);
            publish(&m, &q, 0, 0);
            assert!(matches!(pop_err(&m, &mut q), Error::GuestMemory { .. }));
        }
        // More than 4 GiB in total (each buffer is RAM-checked after the sum).
        let mut q = queue(8);
        put_desc(&m, DESC, 0, DATA, u32::MAX, N, 1);
        put_desc(&m, DESC, 1, DATA, 2, 0, 0);
        publish(&m, &q, 0, 0);
        assert!(matches!(
            pop_err(&m, &mut q),
            Error::GuestMemory { .. } | Error::ChainTooLong
        ));
        // Readable after writable.
        let mut q = queue(8);
        put_desc(&m, DESC, 0, DATA, 4, N | W, 1);
        put_desc(&m, DESC, 1, DATA, 4, 0, 0);
        publish(&m, &q, 0, 0);
        assert!(matches!(pop_err(&m, &mut q), Error::ReadAfterWrite));
        // Indirect rules: nested, with NEXT, bad length, not negotiated, loop inside.
        let table = DATA + 0x1000;
        let cases: [(u16, u32, bool, &dyn Fn()); 5] = [
            (I, 32, true, &|| put_desc(&m, table, 0, table, 16, I, 0)),
            (I | N, 32, true, &|| put_desc(&m, table, 0, DATA, 4, 0, 0)),
            (I, 24, true, &|| put_desc(&m, table, 0, DATA, 4, 0, 0)),
            (I, 32, false, &|| put_desc(&m, table, 0, DATA, 4, 0, 0)),
            (I, 32, true, &|| {
                put_desc(&m, table, 0, DATA, 4, N, 1);
                put_desc(&m, table, 1, DATA, 4, N, 0);
            }),
        ];
        for (k, (flags, len, negotiated, fill)) in cases.into_iter().enumerate() {
            let mut q = queue(8);
            q.indirect = negotiated;
            fill();
            put_desc(&m, DESC, 0, table, len, flags, 1);
            publish(&m, &q, 0, 0);
            let e = pop_err(&m, &mut q);
            assert!(
                matches!(e, Error::BadIndirect(_) | Error::ChainLoop { .. }),
                "case {k}: {e}"
            );
        }
        // The available index running ahead by more than the queue size.
        let mut q = queue(8);
        m.write_bytes(PhysAddr(AVAIL + 2), &9u16.to_le_bytes())
            .unwrap();
        assert!(matches!(pop_err(&m, &mut q), Error::AvailIndex { .. }));
    }

    #[test]
    fn queue_setup_is_checked() {
        let m = ram();
        let mut q = queue(8);
        q.validate(&m).unwrap();
        q.size = 6;
        assert!(q.validate(&m).is_err(), "not a power of two");
        q.size = 16;
        assert!(q.validate(&m).is_err(), "above the maximum");
        q.size = 8;
        q.desc_table = DESC + 8;
        assert!(q.validate(&m).is_err(), "misaligned table");
        q.desc_table = RAM + RAM_SIZE - 16;
        assert!(q.validate(&m).is_err(), "table past the end of RAM");
        q.desc_table = DESC;
        q.used_ring = USED + 2;
        assert!(q.validate(&m).is_err(), "misaligned used ring");
        q.used_ring = 0x900_0000;
        assert!(q.validate(&m).is_err(), "used ring not in RAM");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        /// Random descriptor tables and rings: `pop` never panics, and what it accepts
        /// keeps every buffer inside RAM and the readable buffers first.
        #[test]
        fn random_tables_never_panic(
            descs in proptest::collection::vec(
                (proptest::prelude::any::<u64>(), proptest::prelude::any::<u32>(),
                 0u16..8, 0u16..12, proptest::prelude::any::<bool>()), 1..16),
            heads in proptest::collection::vec(0u16..12, 1..8),
            avail_idx in proptest::prelude::any::<u16>(),
            indirect in proptest::prelude::any::<bool>(),
        ) {
            let m = ram();
            let mut q = queue(8);
            q.indirect = indirect;
            for (i, &(addr, len, flags, next, in_ram)) in descs.iter().enumerate() {
                // Half the addresses inside RAM, so chains get past the range checks.
                let (addr, len) = if in_ram {
                    (DATA + addr % 0x8000, len % 0x2000)
                } else {
                    (addr, len)
                };
                // Indirect tables live in RAM after the descriptor table.
                let table = if i < 8 { DESC } else { DATA + 0x8000 };
                put_desc(&m, table, (i % 8) as u16, addr, len, flags, next);
            }
            for (k, &h) in heads.iter().enumerate() {
                m.write_bytes(PhysAddr(AVAIL + 4 + 2 * k as u64), &h.to_le_bytes()).unwrap();
            }
            m.write_bytes(PhysAddr(AVAIL + 2), &avail_idx.to_le_bytes()).unwrap();
            for _ in 0..10 {
                match q.pop(&m) {
                    Ok(Some(c)) => {
                        let mut seen_write = false;
                        for d in &c.descs {
                            proptest::prop_assert!(mem::is_ram(&m, d.addr, u64::from(d.len)));
                            proptest::prop_assert!(d.write || !seen_write);
                            seen_write |= d.write;
                        }
                        proptest::prop_assert!(c.descs.len() <= 8);
                        q.add_used(&m, c.head, 0).unwrap();
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
}
