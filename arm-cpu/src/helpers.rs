//! Functions generated code calls (`tcg_ir::Helper`s): the few operations that are easier
//! in Rust than in IR.

use crate::state::CpuEnv;
use std::sync::{LazyLock, OnceLock};
use std::time::Instant;
use tcg_ir::{Helper, HelperFlags};

const PURE: HelperFlags = HelperFlags::NO_READ_GLOBALS
    .union(HelperFlags::NO_WRITE_GLOBALS)
    .union(HelperFlags::NO_SIDE_EFFECTS);

extern "C" fn rbit64(_env: *mut u8, x: u64) -> u64 {
    x.reverse_bits()
}

extern "C" fn crc32(_env: *mut u8, acc: u64, val: u64, bytes_and_poly: u64) -> u64 {
    let bytes = (bytes_and_poly & 0xf) as usize;
    let poly: u32 = if bytes_and_poly & 0x100 != 0 {
        0x82f6_3b78
    } else {
        0xedb8_8320
    };
    let mut crc = acc as u32;
    for i in 0..bytes {
        crc ^= ((val >> (8 * i)) & 0xff) as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
        }
    }
    crc as u64
}

fn epoch() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// The generic timer's count: host monotonic time since start-up at `CNTFRQ_HZ`.
pub fn counter_now() -> u64 {
    let ns = epoch().elapsed().as_nanos();
    (ns * crate::sysregs::CNTFRQ_HZ as u128 / 1_000_000_000) as u64
}

extern "C" fn read_counter(_env: *mut u8) -> u64 {
    counter_now()
}

/// Writes PSTATE.SPSel: swaps the current SP with the banked one.
extern "C" fn set_spsel(env: *mut u8, v: u64) -> u64 {
    // SAFETY: generated code passes its own env, which is a CpuEnv.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    let new = v & 1;
    if new != env.spsel {
        // Bank the current SP as the old selection's, load the new selection's.
        let old_idx = if env.spsel == 1 {
            env.el.min(1) as usize
        } else {
            0
        };
        let new_idx = if new == 1 { env.el.min(1) as usize } else { 0 };
        env.sp_el[old_idx] = env.sp;
        env.sp = env.sp_el[new_idx];
        env.spsel = new;
    }
    0
}

/// Reads SP_EL0 (from EL1: the banked copy when SPSel selects SP_EL1).
extern "C" fn read_sp_el0(env: *mut u8) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &*(env as *const CpuEnv) };
    if env.spsel == 1 && env.el >= 1 {
        env.sp_el[0]
    } else {
        env.sp
    }
}

extern "C" fn write_sp_el0(env: *mut u8, v: u64) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    if env.spsel == 1 && env.el >= 1 {
        env.sp_el[0] = v;
    } else {
        env.sp = v;
    }
    0
}

fn helper(name: &'static str, addr: usize, nargs: u8, has_ret: bool, flags: HelperFlags) -> Helper {
    Helper {
        name,
        addr,
        nargs,
        has_ret,
        flags,
    }
}

// Function addresses are not known at compile time, so the descriptors are built on
// first use.
pub static RBIT64: LazyLock<Helper> =
    LazyLock::new(|| helper("rbit64", rbit64 as *const () as usize, 1, true, PURE));
pub static CRC32: LazyLock<Helper> =
    LazyLock::new(|| helper("crc32", crc32 as *const () as usize, 3, true, PURE));
pub static READ_COUNTER: LazyLock<Helper> = LazyLock::new(|| {
    let flags = HelperFlags::NO_READ_GLOBALS.union(HelperFlags::NO_WRITE_GLOBALS);
    helper(
        "read_counter",
        read_counter as *const () as usize,
        0,
        true,
        flags,
    )
});
pub static SET_SPSEL: LazyLock<Helper> = LazyLock::new(|| {
    helper(
        "set_spsel",
        set_spsel as *const () as usize,
        1,
        false,
        HelperFlags::empty(),
    )
});
pub static READ_SP_EL0: LazyLock<Helper> = LazyLock::new(|| {
    helper(
        "read_sp_el0",
        read_sp_el0 as *const () as usize,
        0,
        true,
        HelperFlags::NO_WRITE_GLOBALS,
    )
});
pub static WRITE_SP_EL0: LazyLock<Helper> = LazyLock::new(|| {
    helper(
        "write_sp_el0",
        write_sp_el0 as *const () as usize,
        1,
        false,
        HelperFlags::empty(),
    )
});

/// Every helper, for parsing IR text that names them.
pub fn all() -> Vec<&'static Helper> {
    vec![
        &*RBIT64,
        &*CRC32,
        &*READ_COUNTER,
        &*SET_SPSEL,
        &*READ_SP_EL0,
        &*WRITE_SP_EL0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_known_vectors() {
        // CRC-32 and CRC-32C of "123456789", fed a byte at a time from ~0 and finalised.
        let run = |poly: u64| {
            let mut c = 0xffff_ffffu64;
            for b in b"123456789" {
                c = crc32(std::ptr::null_mut(), c, *b as u64, 1 | poly);
            }
            c ^ 0xffff_ffff
        };
        assert_eq!(run(0), 0xcbf4_3926);
        assert_eq!(run(0x100), 0xe306_9283);
    }
}
