//! What the lockstep checker (`--check`, crate `backend-check`) needs to know about an
//! A64 vCPU: which env bytes are guest state, their names, which helpers can run twice,
//! and how to show the guest code of a TB.

use arm_cpu::state::CpuEnv;
use backend_check::{CheckSpec, OnDivergence};
use softmmu::EnvHead;
use std::fmt::Write as _;
use std::mem::offset_of;
use std::ops::Range;

/// The env bytes compared: the head's fault record (not `exit_request`, which other
/// threads write, nor the TLB and jump cache, which are caches) and every architectural
/// field of `CpuEnv`.
fn ranges() -> Vec<Range<usize>> {
    vec![
        offset_of!(EnvHead, fault)..offset_of!(EnvHead, fault) + 4,
        offset_of!(EnvHead, fault_pc)..offset_of!(EnvHead, ctx),
        offset_of!(CpuEnv, x)..offset_of!(CpuEnv, vtmp),
    ]
}

/// A name for the env word at `off`.
pub fn field_name(off: usize) -> String {
    let fp = offset_of!(CpuEnv, fp);
    let sys = offset_of!(CpuEnv, sysregs);
    let x = offset_of!(CpuEnv, x);
    let named: [(usize, &str); 17] = [
        (offset_of!(EnvHead, fault), "fault"),
        (offset_of!(EnvHead, fault_pc), "fault_pc"),
        (offset_of!(EnvHead, fault_addr), "fault_addr"),
        (offset_of!(EnvHead, fault_info), "fault_info"),
        (offset_of!(EnvHead, fault_access), "fault_access"),
        (offset_of!(CpuEnv, sp), "sp"),
        (offset_of!(CpuEnv, pc), "pc"),
        (offset_of!(CpuEnv, nf), "nf (N)"),
        (offset_of!(CpuEnv, zf), "zf (Z)"),
        (offset_of!(CpuEnv, cf), "cf (C)"),
        (offset_of!(CpuEnv, vf), "vf (V)"),
        (offset_of!(CpuEnv, excl_addr), "excl_addr"),
        (offset_of!(CpuEnv, excl_val), "excl_val"),
        (offset_of!(CpuEnv, excl_val2), "excl_val2"),
        (offset_of!(CpuEnv, el), "el"),
        (offset_of!(CpuEnv, daif), "daif"),
        (offset_of!(CpuEnv, spsel), "spsel"),
    ];
    if let Some((_, n)) = named.iter().find(|(o, _)| *o == off) {
        return n.to_string();
    }
    let fpcr = arm_cpu::state::off::FPCR as usize;
    let fpsr = arm_cpu::state::off::FPSR as usize;
    let v0 = arm_cpu::state::off::v(0) as usize;
    match off {
        o if (x..x + 31 * 8).contains(&o) => format!("x{}", (o - x) / 8),
        o if (sys..sys + arm_cpu::sysregs::NUM_STORED * 8).contains(&o) => {
            format!("sysreg[{}]", (o - sys) / 8)
        }
        o if (fpcr..fpcr + 8).contains(&o) => "fpcr/fpsr".into(),
        o if (fpsr..fpsr + 8).contains(&o) => "fpsr".into(),
        o if (v0..v0 + 32 * 16).contains(&o) => {
            let half = if (o - v0) % 16 < 8 { "lo" } else { "hi" };
            format!("v{}.{half}", (o - v0) / 16)
        }
        o if o == offset_of!(CpuEnv, sp_el) => "sp_el0 (banked)".into(),
        o if o == offset_of!(CpuEnv, sp_el) + 8 => "sp_el1 (banked)".into(),
        o if o == offset_of!(CpuEnv, exit_info) => "exit_info".into(),
        o if (fp..offset_of!(CpuEnv, vtmp)).contains(&o) => format!("fp+{:#x}", o - fp),
        o => format!("env+{o:#x}"),
    }
}

/// The guest code at `pcs`: virtual pc, physical pc, word, disassembly.
fn describe(env: *mut u8, pcs: &[u64]) -> String {
    let mut s = String::new();
    // SAFETY: the checker passes the vCPU's env, a CpuEnv, on the vCPU's thread.
    let el = unsafe { (*(env as *const CpuEnv)).el.min(1) } as usize;
    for &pc in pcs {
        // SAFETY: as above; the head has a valid memory context. A fetch fault is
        // recorded in the env, which is no longer compared (the report is being made).
        let page = unsafe { softmmu::slow::code_page(env as *mut EnvHead, pc, el) };
        let Some((host, paddr_page)) = page else {
            let _ = writeln!(s, "  {pc:#018x}: (not mapped for execution now)");
            continue;
        };
        let off = (pc & 0xfff) as usize;
        // SAFETY: `host` is the host view of the whole guest page holding `pc`, and
        // `off + 4` is within it (A64 code is 4-aligned).
        let word = unsafe { (host.add(off) as *const u32).read_unaligned() };
        let insn = arm_decode::decode(word);
        let _ = writeln!(
            s,
            "  {pc:#018x} (phys {:#x}): {word:08x}  {}",
            paddr_page | off as u64,
            insn.display_at(pc)
        );
    }
    s
}

/// The checker's description of an `ArmCpu`, reporting divergences to `on_divergence`.
pub fn spec(on_divergence: OnDivergence) -> CheckSpec {
    use arm_cpu::helpers::*;
    CheckSpec {
        ranges: ranges(),
        scratch: std::iter::once(offset_of!(CpuEnv, vtmp)..std::mem::size_of::<CpuEnv>()).collect(),
        field_name: Box::new(field_name),
        replayable: [
            &*SET_SPSEL,
            &*READ_SP_EL0,
            &*WRITE_SP_EL0,
            &*FP_SCALAR,
            &*FP_VECTOR,
            &*SIMD_INT,
            &*CRYPTO,
        ]
        .iter()
        .map(|h| h.addr)
        .collect(),
        describe: Box::new(describe),
        on_divergence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_have_names() {
        assert_eq!(field_name(offset_of!(CpuEnv, x) + 8 * 3), "x3");
        assert_eq!(field_name(offset_of!(CpuEnv, pc)), "pc");
        assert_eq!(field_name(arm_cpu::state::off::v(2) as usize + 8), "v2.hi");
        assert_eq!(field_name(offset_of!(EnvHead, fault_addr)), "fault_addr");
    }

    #[test]
    fn ranges_cover_the_registers_and_not_the_exit_request() {
        let r = ranges();
        let covered = |o: usize| r.iter().any(|r| r.contains(&o));
        assert!(covered(offset_of!(CpuEnv, pc)) && covered(offset_of!(CpuEnv, x) + 8 * 30));
        assert!(covered(arm_cpu::state::off::FPSR as usize));
        assert!(!covered(offset_of!(EnvHead, exit_request)));
        assert!(!covered(offset_of!(EnvHead, tlb)));
    }
}
