//! Device access to guest RAM: byte copies through the physical map (which tells the
//! translation cache about writes to pages holding code, as a vCPU's store would) and
//! the ring indices as host atomics (the driver on another vCPU publishes and reads
//! them with barriers).

use crate::{Error, Result};
use softmmu::{PhysAddr, PhysMap};
use std::sync::atomic::{AtomicU16, Ordering};

fn bad(addr: u64, len: u64) -> Error {
    Error::GuestMemory { addr, len }
}

/// Whether `len` bytes at `addr` are all guest RAM (devices never DMA to MMIO).
pub fn is_ram(mem: &PhysMap, addr: u64, len: u64) -> bool {
    mem.ram_ptr(PhysAddr(addr), len.max(1)).is_some()
}

pub fn read(mem: &PhysMap, addr: u64, out: &mut [u8]) -> Result<()> {
    mem.read_bytes(PhysAddr(addr), out)
        .map_err(|_| bad(addr, out.len() as u64))
}

pub fn write(mem: &PhysMap, addr: u64, data: &[u8]) -> Result<()> {
    mem.write_bytes(PhysAddr(addr), data)
        .map_err(|_| bad(addr, data.len() as u64))
}

pub fn read_u16(mem: &PhysMap, addr: u64) -> Result<u16> {
    let mut b = [0; 2];
    read(mem, addr, &mut b)?;
    Ok(u16::from_le_bytes(b))
}

/// The 16-bit ring field at `addr` as a host atomic. Guest RAM is 16-byte aligned on
/// the host, so an aligned guest address is an aligned host address.
fn atomic_u16(mem: &PhysMap, addr: u64) -> Result<&AtomicU16> {
    if !addr.is_multiple_of(2) {
        return Err(bad(addr, 2));
    }
    let p = mem.ram_ptr(PhysAddr(addr), 2).ok_or(bad(addr, 2))?;
    if !(p as usize).is_multiple_of(std::mem::align_of::<AtomicU16>()) {
        return Err(bad(addr, 2));
    }
    // SAFETY: `p` points at 2 bytes of guest RAM (checked by ram_ptr), aligned for
    // AtomicU16 (checked above); the RAM block lives as long as `mem`, which the returned
    // reference borrows. Every other access to it (vCPUs, devices) is a plain or atomic
    // access of the same memory, the guest's own shared-memory model.
    Ok(unsafe { AtomicU16::from_ptr(p.cast::<u16>()) })
}

/// A ring index the driver publishes (available index): read with acquire ordering so
/// the ring entries and descriptors read after it are at least as new (little-endian
/// host assumed, as the rest of the emulator does).
pub fn load_u16_acquire(mem: &PhysMap, addr: u64) -> Result<u16> {
    Ok(atomic_u16(mem, addr)?.load(Ordering::Acquire))
}

/// A ring index the device publishes (used index): released after the used entries.
pub fn store_u16_release(mem: &PhysMap, addr: u64, v: u16) -> Result<()> {
    atomic_u16(mem, addr)?.store(v, Ordering::Release);
    // A store through a host pointer bypasses the slow paths: report it like a DMA write.
    mem.notify_write(PhysAddr(addr), 2);
    Ok(())
}
