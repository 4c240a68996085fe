//! Functions generated code calls (`tcg_ir::Helper`s): the few operations that are easier
//! in Rust than in IR.

use crate::state::CpuEnv;
use crate::sysregs::slot;
use crate::timer::{self, Timer, TimerRegs};
use softmmu::TlbFlush;
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

/// Writes an MMU control register (`slot`). TLB entries are tagged with the ASID, so a
/// TTBR0/TTBR1 write flushes nothing (a context switch, or a new table base, which the
/// architecture requires a TLBI for anyway); it may select another ASID. SCTLR_EL1,
/// TCR_EL1 and MAIR_EL1 shape the translations TLB entries cache: changing one flushes.
extern "C" fn write_mmu_reg(env: *mut u8, slot: u64, v: u64) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    let s = slot as usize;
    if s < env.sysregs.len() && env.sysregs[s] != v {
        env.sysregs[s] = v;
        if s != slot::TTBR0 && s != slot::TTBR1 {
            env.head.tlb_flush(TlbFlush::All);
        }
        sync_asid(env);
    }
    0
}

/// Points the TLB at the current ASID's entries (after TTBR0/TTBR1/TCR may have changed).
pub fn sync_asid(env: &mut CpuEnv) {
    let asid = crate::mmu::current_asid(&crate::mmu::Regs::from_env(env));
    env.head.tlb_set_asid(asid);
}

/// The TLBI operations (op2 of `TLBI <op>{IS}`, i.e. `SYS #0, C8, C3/C7, #op2`). The
/// translator puts the operation in bits 47:44 of the operand (RES0 there: no FEAT_TTL),
/// so one value carries a TLBI to this helper and, for the inner-shareable forms, to the
/// other vCPUs ([`crate::exits::TLBI_BROADCAST`]).
pub mod tlbi {
    pub const VMALLE1: u64 = 0;
    pub const VAE1: u64 = 1;
    pub const ASIDE1: u64 = 2;
    pub const VAAE1: u64 = 3;
    pub const VALE1: u64 = 5;
    pub const VAALE1: u64 = 7;
    /// Where the operation sits in the operand word.
    pub const SHIFT: u32 = 44;
    pub const MASK: u64 = 0xf << SHIFT;
}

/// What a TLBI operand word (see [`tlbi`]) invalidates, ASIDs limited to `asid_mask`.
/// Xt holds the ASID in bits 63:48 and VA[55:12] in bits 43:0; the last-level forms
/// (VALE1, VAALE1) may keep cached table walks, of which there are none here, so they do
/// what VAE1 and VAAE1 do.
pub fn tlbi_op(word: u64, asid_mask: u16) -> TlbFlush {
    let asid = (word >> 48) as u16 & asid_mask;
    let vaddr = (word & ((1 << tlbi::SHIFT) - 1)) << 12;
    match (word & tlbi::MASK) >> tlbi::SHIFT {
        tlbi::ASIDE1 => TlbFlush::Asid(asid),
        tlbi::VAE1 | tlbi::VALE1 => TlbFlush::Page {
            vaddr,
            asid: Some(asid),
        },
        tlbi::VAAE1 | tlbi::VAALE1 => TlbFlush::Page { vaddr, asid: None },
        // VMALLE1 (the translator emits no other value).
        _ => TlbFlush::All,
    }
}

/// Carries out the TLBI `word` on this CPU.
pub fn tlbi_env(env: &mut CpuEnv, word: u64) {
    let op = tlbi_op(word, crate::mmu::asid_mask(env.sysregs[slot::TCR]));
    env.head.tlb_flush(op);
}

extern "C" fn tlbi(env: *mut u8, word: u64) -> u64 {
    // SAFETY: as above.
    tlbi_env(unsafe { &mut *(env as *mut CpuEnv) }, word);
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

/// The GICv3 CPU interface attached to the CPU's lines, if any.
fn cpu_interface(env: &CpuEnv) -> Option<&dyn crate::irq::CpuInterface> {
    // SAFETY: `lines` is null or points at the IrqLines the owning ArmCpu keeps alive.
    unsafe { env.lines.as_ref() }.and_then(|l| l.cpu_interface())
}

/// MRS of an ICC register (`sel` = [`crate::irq::IccReg::index`]); zero without a GIC.
extern "C" fn read_icc(env: *mut u8, sel: u64) -> u64 {
    // SAFETY: generated code passes its own env, which is a CpuEnv.
    let env = unsafe { &*(env as *const CpuEnv) };
    match (cpu_interface(env), crate::irq::IccReg::from_index(sel)) {
        (Some(icc), Some(r)) => icc.read(r),
        _ => 0,
    }
}

/// MSR of an ICC register; then leaves generated code if an interrupt became deliverable.
extern "C" fn write_icc(env: *mut u8, sel: u64, v: u64) -> u64 {
    // SAFETY: as above.
    let env = unsafe { &*(env as *const CpuEnv) };
    if let (Some(icc), Some(r)) = (cpu_interface(env), crate::irq::IccReg::from_index(sel)) {
        icc.write(r, v);
    }
    check_irq_env(env);
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
env_helper!(TLBI, tlbi, 1, false, ENV_ONLY);
env_helper!(CHECK_IRQ, check_irq, 0, false, ENV_ONLY);
env_helper!(READ_ICC, read_icc, 1, true, ENV_ONLY);
env_helper!(WRITE_ICC, write_icc, 2, false, ENV_ONLY);
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
        &*TLBI,
        &*CHECK_IRQ,
        &*READ_ICC,
        &*WRITE_ICC,
        &*ERET,
        &*AT,
        &*FP_SCALAR,
        &*FP_VECTOR,
        &*SIMD_INT,
        &*CRYPTO,
        &*FP_PLAN,
        &*crate::translate::atomic::CASP128,
        &*crate::translate::atomic::STXP128,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz finding (translate target): IR calling `fpsimd` printed but did not parse
    /// back, because `all()` missed it.
    #[test]
    fn all_names_every_helper_the_translator_emits() {
        let names: Vec<&str> = all().iter().map(|h| h.name).collect();
        for h in [
            &*FP_SCALAR,
            &*FP_VECTOR,
            &*SIMD_INT,
            &*CRYPTO,
            &*FP_PLAN,
            &*AT,
            &*ERET,
            &*crate::translate::atomic::CASP128,
            &*crate::translate::atomic::STXP128,
        ] {
            assert!(names.contains(&h.name), "{} missing", h.name);
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "names are unique");
    }

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

    #[test]
    fn tlbi_operands_decode_by_the_architecture() {
        let word = |op: u64, xt: u64| (xt & !tlbi::MASK) | op << tlbi::SHIFT;
        // Bits 47:44 (the operation, RES0 in Xt) set too: they must not leak into the VA.
        let xt = 0x1234 << 48 | 0xffff_ffff_ffff;
        let va = 0xff_ffff_ffff_f000;
        for (op, asid) in [(tlbi::VAE1, Some(0x34)), (tlbi::VALE1, Some(0x34))] {
            assert_eq!(
                tlbi_op(word(op, xt), 0xff),
                TlbFlush::Page { vaddr: va, asid }
            );
        }
        for op in [tlbi::VAAE1, tlbi::VAALE1] {
            let f = TlbFlush::Page {
                vaddr: va,
                asid: None,
            };
            assert_eq!(tlbi_op(word(op, xt), 0xffff), f);
        }
        assert_eq!(
            tlbi_op(word(tlbi::ASIDE1, xt), 0xffff),
            TlbFlush::Asid(0x1234)
        );
        assert_eq!(tlbi_op(word(tlbi::VMALLE1, 0), 0xffff), TlbFlush::All);
    }

    #[test]
    fn the_asid_comes_from_the_ttbr_tcr_a1_selects() {
        use crate::mmu::{current_asid, Regs};
        let regs = |tcr: u64| Regs {
            tcr,
            ttbr0: 0xabcd << 48 | 0x4000_0000,
            ttbr1: 0x1234 << 48 | 0x5000_0000,
            ..Regs::default()
        };
        const A1: u64 = 1 << 22;
        const AS16: u64 = 1 << 36;
        assert_eq!(current_asid(&regs(0)), 0xcd);
        assert_eq!(current_asid(&regs(AS16)), 0xabcd);
        assert_eq!(current_asid(&regs(A1)), 0x34);
        assert_eq!(current_asid(&regs(A1 | AS16)), 0x1234);
    }
}

/// Helpers that run one FP/AdvSIMD/crypto data-processing instruction on `env.fp`
/// through `arm_fpsimd`, one per [`arm_fpsimd::Part`] (resolved at translation time; see
/// `arm_fpsimd` for what `gpr` carries in and the result out). `insn` is the address of
/// the instruction decoded at translation time ([`interned_insn`]); the translator only
/// emits these for instructions `arm_fpsimd::supported` accepts, each with its part.
macro_rules! fpsimd_helper {
    ($name:ident, $f:ident, $part:expr) => {
        extern "C" fn $f(env: *mut u8, insn: u64, gpr: u64) -> u64 {
            // SAFETY: generated code passes its own env, which is a CpuEnv.
            let env = unsafe { &mut *(env as *mut CpuEnv) };
            // SAFETY: the translator embeds only addresses from `interned_insn`, which
            // are leaked (never freed) and never written after creation.
            let insn = unsafe { &*(insn as usize as *const arm_decode::Insn) };
            arm_fpsimd::exec_part($part, &mut env.fp, insn, gpr)
        }
        env_helper!($name, $f, 2, true, ENV_ONLY);
    };
}
fpsimd_helper!(FP_SCALAR, fp_scalar, arm_fpsimd::Part::FpScalar);
fpsimd_helper!(FP_VECTOR, fp_vector, arm_fpsimd::Part::FpVector);
fpsimd_helper!(SIMD_INT, simd_int, arm_fpsimd::Part::IntVector);
fpsimd_helper!(CRYPTO, crypto, arm_fpsimd::Part::Crypto);

/// Runs an instruction resolved at translation time ([`arm_fpsimd::plan`]); `plan` is
/// the address of the plan ([`interned_plan`]), `gpr` and the result as for the
/// per-part helpers.
extern "C" fn fp_plan(env: *mut u8, plan: u64, gpr: u64) -> u64 {
    // SAFETY: generated code passes its own env, which is a CpuEnv.
    let env = unsafe { &mut *(env as *mut CpuEnv) };
    // SAFETY: the translator embeds only addresses from `interned_plan`, which are leaked
    // (never freed) and never written after creation.
    let plan = unsafe { &*(plan as usize as *const arm_fpsimd::plan::Plan) };
    arm_fpsimd::plan::run(plan, &mut env.fp, gpr)
}
env_helper!(FP_PLAN, fp_plan, 2, true, ENV_ONLY);

/// The plan of the instruction `word` (decoded as `insn`) at a stable address for
/// [`FP_PLAN`] calls, if plans cover it; one leaked copy per distinct word.
pub fn interned_plan(
    word: u32,
    insn: &arm_decode::Insn,
) -> Option<&'static arm_fpsimd::plan::Plan> {
    use std::collections::HashMap;
    use std::sync::RwLock;
    type Table = HashMap<u32, &'static arm_fpsimd::plan::Plan>;
    static TABLE: LazyLock<RwLock<Table>> = LazyLock::new(|| RwLock::new(HashMap::new()));
    // A poisoned lock still holds a consistent map (inserts cannot half-happen).
    if let Some(&p) = TABLE.read().unwrap_or_else(|e| e.into_inner()).get(&word) {
        return Some(p);
    }
    let p = arm_fpsimd::plan::plan(insn)?;
    let mut t = TABLE.write().unwrap_or_else(|e| e.into_inner());
    Some(t.entry(word).or_insert_with(|| Box::leak(Box::new(p))))
}

/// The helper running instructions of part `p` (`None` for [`arm_fpsimd::Part::None`]).
pub fn fpsimd_helper(p: arm_fpsimd::Part) -> Option<&'static Helper> {
    use arm_fpsimd::Part;
    Some(match p {
        Part::FpScalar => &FP_SCALAR,
        Part::FpVector => &FP_VECTOR,
        Part::IntVector => &SIMD_INT,
        Part::Crypto => &CRYPTO,
        Part::None => return None,
    })
}

/// A decoded instruction at a stable address for [`fpsimd_helper`] calls: decoding an AdvSIMD
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
