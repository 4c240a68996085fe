//! Functions generated code calls (`tcg_ir::Helper`s): the few operations that are easier
//! in Rust than in IR.

use crate::state::CpuEnv;
use crate::sysregs::slot;
use crate::timer::{self, Timer, TimerRegs};
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

/// CTL and CVAL slots of `timer`.
pub fn timer_slots(timer: Timer) -> (usize, usize) {
    match timer {
        Timer::Virt => (slot::CNTV_CTL, slot::CNTV_CVAL),
        Timer::Phys => (slot::CNTP_CTL, slot::CNTP_CVAL),
    }
}

/// The programmed state of `timer` (ISTATUS not included).
pub fn timer_regs(env: &CpuEnv, timer: Timer) -> TimerRegs {
    let (c, v) = timer_slots(timer);
    TimerRegs {
        ctl: env.sysregs[c] & (timer::CTL_ENABLE | timer::CTL_IMASK),
        cval: env.sysregs[v],
    }
}

fn timer_of(sel: u64) -> Timer {
    if sel & 1 == 0 {
        Timer::Virt
    } else {
        Timer::Phys
    }
}

/// Reads a timer register; `sel` = timer (bit 0) | `TimerReg` << 1.
extern "C" fn read_timer(env: *mut u8, sel: u64) -> u64 {
    // SAFETY: generated code passes its own env, which is a CpuEnv.
    let env = unsafe { &*(env as *const CpuEnv) };
    let r = timer_regs(env, timer_of(sel));
    let now = timer::now();
    match sel >> 1 {
        0 => {
            r.ctl
                | if r.condition(now) {
                    timer::CTL_ISTATUS
                } else {
                    0
                }
        }
        1 => r.cval,
        _ => r.cval.wrapping_sub(now) & 0xffff_ffff,
    }
}

/// Writes a timer register (the translator then exits so the board sees the change).
extern "C" fn write_timer(env: *mut u8, sel: u64, v: u64) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    let (c, cv) = timer_slots(timer_of(sel));
    match sel >> 1 {
        0 => env.sysregs[c] = v & (timer::CTL_ENABLE | timer::CTL_IMASK),
        1 => env.sysregs[cv] = v,
        // TVAL is a signed 32-bit offset from the count.
        _ => env.sysregs[cv] = timer::now().wrapping_add(v as u32 as i32 as i64 as u64),
    }
    0
}

/// ISR_EL1: I (bit 7) and F (bit 6) from the input lines.
extern "C" fn read_isr(env: *mut u8) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &*(env as *const CpuEnv) };
    // SAFETY: `lines` is null or points at the IrqLines the owning ArmCpu keeps alive.
    match unsafe { env.lines.as_ref() } {
        Some(l) => ((l.irq() as u64) << 7) | ((l.fiq() as u64) << 6),
        None => 0,
    }
}

/// Writes an MMU control register (`slot`), flushing the TLB when the value changes.
extern "C" fn write_mmu_reg(env: *mut u8, slot: u64, v: u64) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    let s = slot as usize;
    if s < env.sysregs.len() && env.sysregs[s] != v {
        env.sysregs[s] = v;
        env.head.flush_tlb();
    }
    0
}

/// TLB invalidation on this CPU (every TLBI variant: entries are not tagged with ASIDs
/// and may come from blocks larger than a page, so all of them go).
extern "C" fn flush_tlb(env: *mut u8) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    env.head.flush_tlb();
    0
}

/// Asks the CPU to leave generated code if an unmasked interrupt is pending (after
/// PSTATE.{I,F} may have been cleared).
pub fn check_irq_env(env: &CpuEnv) {
    // SAFETY: `lines` is null or points at the IrqLines the owning ArmCpu keeps alive.
    let lines = unsafe { env.lines.as_ref() };
    if lines.is_some_and(|l| l.deliverable(env.daif).is_some()) {
        env.head.request_exit();
    }
}

extern "C" fn check_irq(env: *mut u8) -> u64 {
    // SAFETY: as above.
    check_irq_env(unsafe { &*(env as *const CpuEnv) });
    0
}

/// ERET: PSTATE from SPSR_EL1, PC from ELR_EL1.
extern "C" fn eret(env: *mut u8) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    crate::except::eret(env);
    check_irq_env(env);
    0
}

/// AT S1E{0,1}{R,W}: translates `vaddr` and writes PAR_EL1; `sel` bit 0 = write,
/// bit 1 = as EL0.
extern "C" fn at(env: *mut u8, vaddr: u64, sel: u64) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    // SAFETY: the env's memory context is set at construction and outlives the CPU.
    let Some(ctx) = (unsafe { env.head.ctx.as_ref() }) else {
        return 0;
    };
    let par = crate::mmu::at(env, vaddr, sel & 1 != 0, sel & 2 != 0, &ctx.phys);
    env.sysregs[slot::PAR] = par;
    0
}

macro_rules! env_helper {
    ($name:ident, $f:ident, $nargs:expr, $ret:expr, $flags:expr) => {
        pub static $name: LazyLock<Helper> = LazyLock::new(|| {
            helper(
                stringify!($f),
                $f as *const () as usize,
                $nargs,
                $ret,
                $flags,
            )
        });
    };
}

/// Helpers that touch only non-global env fields (system registers, TLBs, lines).
const ENV_ONLY: HelperFlags = HelperFlags::NO_READ_GLOBALS.union(HelperFlags::NO_WRITE_GLOBALS);
env_helper!(READ_TIMER, read_timer, 1, true, ENV_ONLY);
env_helper!(WRITE_TIMER, write_timer, 2, false, ENV_ONLY);
env_helper!(READ_ISR, read_isr, 0, true, ENV_ONLY);
env_helper!(WRITE_MMU_REG, write_mmu_reg, 2, false, ENV_ONLY);
env_helper!(FLUSH_TLB, flush_tlb, 0, false, ENV_ONLY);
env_helper!(CHECK_IRQ, check_irq, 0, false, ENV_ONLY);
env_helper!(ERET, eret, 0, false, HelperFlags::empty());
env_helper!(AT, at, 2, false, ENV_ONLY);

/// Every helper, for parsing IR text that names them.
pub fn all() -> Vec<&'static Helper> {
    vec![
        &*RBIT64,
        &*CRC32,
        &*READ_COUNTER,
        &*SET_SPSEL,
        &*READ_SP_EL0,
        &*WRITE_SP_EL0,
        &*READ_TIMER,
        &*WRITE_TIMER,
        &*READ_ISR,
        &*WRITE_MMU_REG,
        &*FLUSH_TLB,
        &*CHECK_IRQ,
        &*ERET,
        &*AT,
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

/// Runs one FP/AdvSIMD/crypto data-processing instruction on `env.fp` through
/// `arm_fpsimd` (see there for what `gpr` carries in and the result out). `insn` is the
/// address of the instruction decoded at translation time ([`interned_insn`]); the
/// translator only emits this for instructions `arm_fpsimd::supported` accepts.
extern "C" fn fpsimd(env: *mut u8, insn: u64, gpr: u64) -> u64 {
    // SAFETY: generated code passes its own env, which is a CpuEnv.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    // SAFETY: the translator embeds only addresses from `interned_insn`, which are
    // leaked (never freed) and never written after creation.
    let insn = unsafe { &*(insn as usize as *const arm_decode::Insn) };
    arm_fpsimd::exec(&mut env.fp, insn, gpr)
}

/// A decoded instruction at a stable address for [`FPSIMD`] calls: decoding an AdvSIMD
/// word at run time costs more than executing most of them. One leaked copy per
/// distinct word (a guest uses a few thousand; a random test up to one per word).
pub fn interned_insn(word: u32, insn: arm_decode::Insn) -> &'static arm_decode::Insn {
    use std::collections::HashMap;
    use std::sync::RwLock;
    static TABLE: LazyLock<RwLock<HashMap<u32, &'static arm_decode::Insn>>> =
        LazyLock::new(|| RwLock::new(HashMap::new()));
    // A poisoned lock still holds a consistent map (inserts cannot half-happen).
    if let Some(&i) = TABLE.read().unwrap_or_else(|e| e.into_inner()).get(&word) {
        return i;
    }
    let mut t = TABLE.write().unwrap_or_else(|e| e.into_inner());
    t.entry(word).or_insert_with(|| Box::leak(Box::new(insn)))
}
env_helper!(FPSIMD, fpsimd, 2, true, ENV_ONLY);
