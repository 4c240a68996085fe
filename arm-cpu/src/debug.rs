//! What a debugger reads and writes on a (stopped) vCPU: the registers GDB's AArch64 core
//! and FP/SIMD features name, and memory at virtual addresses through the vCPU's current
//! translation regime, as QEMU's GDB stub does. Debug accesses walk the page tables
//! without filling the TLB, ignore permissions (a mapping is enough), touch RAM only (never
//! a device register: reads of some have side effects) and never hit a watchpoint.

use crate::cpu::ArmCpu;
use crate::mmu;
use crate::state::CpuEnv;
use softmmu::layout::{PAGE_MASK, PAGE_SIZE};
use softmmu::PhysAddr;

/// GDB's view of the registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Regs {
    pub x: [u64; 31],
    /// The current stack pointer (SP_EL0 or SP_EL1, as PSTATE.SPSel says).
    pub sp: u64,
    pub pc: u64,
    /// PSTATE in the SPSR layout: NZCV, DAIF, M[3:0] (GDB's `cpsr`).
    pub cpsr: u32,
    pub v: [u128; 32],
    pub fpsr: u32,
    pub fpcr: u32,
}

/// The PSTATE.M values this CPU has: EL0t, EL1t, EL1h.
fn legal_mode(m: u64) -> bool {
    matches!(m, 0b0000 | 0b0100 | 0b0101)
}

/// Sets PSTATE from `cpsr` as a debugger writes it: the flags and DAIF always, the mode
/// only if it is one this CPU has (the SPs are banked as an exception return does).
fn set_pstate(env: &mut CpuEnv, cpsr: u64) {
    env.set_nzcv(cpsr);
    env.daif = cpsr & 0x3c0;
    let m = cpsr & 0xf;
    let cur = ((env.el & 1) << 2) | (env.spsel & 1);
    if m == cur || !legal_mode(m) {
        return;
    }
    let bank = |env: &CpuEnv| if env.spsel == 1 { env.el.min(1) } else { 0 } as usize;
    let i = bank(env);
    env.sp_el[i] = env.sp;
    env.el = (m >> 2) & 1;
    env.spsel = m & 1;
    let j = bank(env);
    env.sp = env.sp_el[j];
    env.excl_addr = u64::MAX;
}

impl ArmCpu {
    /// The registers GDB shows.
    pub fn debug_regs(&self) -> Regs {
        let e = self.env_ref();
        Regs {
            x: e.x,
            sp: e.sp,
            pc: e.pc,
            cpsr: crate::except::pstate(e) as u32,
            v: std::array::from_fn(|i| e.fp.q(i as u8)),
            fpsr: e.fp.fpsr as u32,
            fpcr: e.fp.fpcr as u32,
        }
    }

    /// Writes the registers (FPCR and FPSR keep only their implemented bits; a PSTATE
    /// mode this CPU does not have is ignored).
    pub fn set_debug_regs(&mut self, r: &Regs) {
        let e = self.env_mut();
        e.x = r.x;
        e.pc = r.pc;
        set_pstate(e, r.cpsr as u64);
        // After the mode: `sp` is the SP of the mode now selected.
        e.sp = r.sp;
        for (i, v) in r.v.iter().enumerate() {
            e.fp.v[i] = [*v as u64, (*v >> 64) as u64];
        }
        e.fp.fpsr = r.fpsr as u64 & arm_fpsimd::regs::FPSR_MASK;
        e.fp.fpcr = r.fpcr as u64 & arm_fpsimd::regs::FPCR_MASK;
    }

    /// The physical address `vaddr` maps to in the current translation regime (EL0's or
    /// EL1's, as the vCPU runs now), without the permission check; `None` when it is not
    /// mapped.
    pub fn debug_translate(&self, vaddr: u64) -> Option<u64> {
        let e = self.env_ref();
        let regs = mmu::Regs::from_env(e);
        mmu::walk(&regs, &**self.phys(), vaddr, e.el == 0)
            .ok()
            .map(|w| w.pa)
    }

    /// Copies guest memory at virtual `vaddr` into `buf`; returns how many bytes were
    /// read (fewer than asked at the first byte that is not mapped to RAM).
    pub fn debug_read(&self, vaddr: u64, buf: &mut [u8]) -> usize {
        let phys = self.phys();
        let mut done = 0;
        while done < buf.len() {
            let a = vaddr.wrapping_add(done as u64);
            let n = ((PAGE_SIZE - (a & !PAGE_MASK)) as usize).min(buf.len() - done);
            let Some(pa) = self.debug_translate(a) else {
                break;
            };
            if phys
                .read_bytes(PhysAddr(pa), &mut buf[done..done + n])
                .is_err()
            {
                break;
            }
            done += n;
        }
        done
    }

    /// Writes `data` to guest memory at virtual `vaddr` (translated code there is
    /// invalidated, as for any write); returns how many bytes were written (fewer at the
    /// first byte that is not mapped to RAM).
    pub fn debug_write(&self, vaddr: u64, data: &[u8]) -> usize {
        let phys = self.phys();
        let mut done = 0;
        while done < data.len() {
            let a = vaddr.wrapping_add(done as u64);
            let n = ((PAGE_SIZE - (a & !PAGE_MASK)) as usize).min(data.len() - done);
            let Some(pa) = self.debug_translate(a) else {
                break;
            };
            if phys
                .write_bytes(PhysAddr(pa), &data[done..done + n])
                .is_err()
            {
                break;
            }
            done += n;
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{CpuConfig, Platform};
    use softmmu::PhysMap;
    use std::sync::Arc;
    use vcpu_sched::CpuAction;

    struct NoPlatform;
    impl Platform for NoPlatform {
        fn hvc(&self, _cpu: &mut ArmCpu, _imm: u16) -> CpuAction {
            CpuAction::Continue
        }
    }

    fn cpu() -> ArmCpu {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(0x4000_0000), 0x10_0000).unwrap();
        let mut c = ArmCpu::new(
            CpuConfig {
                index: 0,
                log_unimp: false,
            },
            Arc::new(m),
            Arc::new(NoPlatform),
        );
        c.reset_to(0x4000_0000, 0);
        c
    }

    #[test]
    fn registers_round_trip_and_pstate_is_checked() {
        let mut c = cpu();
        let mut r = c.debug_regs();
        assert_eq!(r.pc, 0x4000_0000);
        // EL1h, DAIF masked, flags clear (the reset state).
        assert_eq!(r.cpsr, 0x3c5);
        r.x[5] = 0x5555;
        r.x[30] = 0x3030;
        r.sp = 0x4008_0000;
        r.pc = 0x4000_1000;
        r.v[31] = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        r.fpcr = 0x0040_0000; // RMode = towards +infinity
        r.fpsr = 0x0800_0001 | 0x100; // QC, IOC, and an unimplemented bit
        r.cpsr = 0x9000_0005; // N and V, DAIF clear, EL1h
        c.set_debug_regs(&r);
        let back = c.debug_regs();
        assert_eq!(back.x[5], 0x5555);
        assert_eq!(back.x[30], 0x3030);
        assert_eq!(back.sp, 0x4008_0000);
        assert_eq!(back.pc, 0x4000_1000);
        assert_eq!(back.v[31], r.v[31]);
        assert_eq!(back.fpcr, 0x0040_0000);
        assert_eq!(back.fpsr, 0x0800_0001);
        assert_eq!(back.cpsr, 0x9000_0005);
        let e = c.env_ref();
        assert!(e.nf >> 63 == 1 && e.zf != 0 && e.cf == 0 && e.vf >> 63 == 1);
        // To EL0t: SP_EL1 is banked, SP becomes SP_EL0; back to EL1h restores it.
        r = c.debug_regs();
        r.cpsr = 0;
        r.sp = 0x1234;
        c.set_debug_regs(&r);
        assert_eq!(c.env_ref().el, 0);
        assert_eq!(c.debug_regs().sp, 0x1234);
        r = c.debug_regs();
        r.cpsr = 0x5;
        r.sp = 0x4008_0000;
        c.set_debug_regs(&r);
        assert_eq!(c.env_ref().sp_el[0], 0x1234);
        // An EL2 mode is not this CPU's: only the flags change.
        r.cpsr = 0x2000_0009;
        c.set_debug_regs(&r);
        assert_eq!(c.debug_regs().cpsr, 0x2000_0005);
    }

    #[test]
    fn memory_through_the_current_regime_ram_only() {
        let c = cpu();
        // MMU off: virtual = physical.
        assert_eq!(c.debug_translate(0x4000_0010), Some(0x4000_0010));
        assert_eq!(c.debug_write(0x4000_0ffe, &[1, 2, 3, 4]), 4);
        let mut b = [0u8; 4];
        assert_eq!(c.debug_read(0x4000_0ffe, &mut b), 4);
        assert_eq!(b, [1, 2, 3, 4]);
        // Past the end of RAM, and nothing mapped: short or empty, never a panic.
        let end = 0x4000_0000 + 0x10_0000;
        assert_eq!(c.debug_read(end - 2, &mut b), 2);
        assert_eq!(c.debug_read(0x100, &mut b), 0);
        assert_eq!(c.debug_write(0x900_0000, &[0]), 0);
        assert_eq!(c.debug_read(u64::MAX, &mut b), 0);
    }
}
