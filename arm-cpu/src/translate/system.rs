//! System instructions: hints (WFI/WFE/SEV), barriers, exception generation, MRS/MSR,
//! MSR (immediate), SYS (cache/TLB maintenance) and ERET.

use super::{BlockEnd, Ctl, Ctx};
use crate::exits;
use crate::helpers;
use crate::state::off;
use crate::sysregs::{self, El0Access, Kind};
use arm_decode::{BarrierKind, ExceptionKind, Hint, Insn, PstateField, Reg, SysReg};
use tcg_ir::types::{BarrierFlags, MemOp};

fn mrs(cx: &mut Ctx, rt: Reg, def: &sysregs::Def) {
    let v = cx.tmp();
    match def.kind {
        Kind::Const(c) => {
            let k = cx.c(c);
            cx.b.mov(v, k);
        }
        Kind::Stored { slot, .. } => cx.b.ld_env(v, off::sysreg(slot), MemOp::UQ),
        Kind::CurrentEl => {
            cx.b.ld_env(v, off::EL, MemOp::UQ);
            let s = cx.c(2);
            cx.b.shl(v, v, s);
        }
        Kind::Daif => cx.b.ld_env(v, off::DAIF, MemOp::UQ),
        Kind::SpSel => cx.b.ld_env(v, off::SPSEL, MemOp::UQ),
        Kind::SpEl0 => cx.b.call(&helpers::READ_SP_EL0, Some(v), &[]),
        Kind::Counter => cx.b.call(&helpers::READ_COUNTER, Some(v), &[]),
        Kind::RazWi => {
            let k = cx.c(0);
            cx.b.mov(v, k);
        }
        Kind::Mmu { slot, .. } => cx.b.ld_env(v, off::sysreg(slot), MemOp::UQ),
        Kind::Timer(t, r) => {
            let sel = cx.c(t as u64 | (r as u64) << 1);
            cx.b.call(&helpers::READ_TIMER, Some(v), &[sel]);
        }
        Kind::Isr => cx.b.call(&helpers::READ_ISR, Some(v), &[]),
        Kind::FpCtl { offset, .. } => cx.b.ld_env(v, offset, MemOp::UQ),
        Kind::Icc(r) => {
            let sel = cx.c(r.index());
            cx.b.call(&helpers::READ_ICC, Some(v), &[sel]);
        }
        Kind::Nzcv => {
            cx.flags_for_read();
            // N from bit 63 of nf, Z from zf == 0, C from cf, V from bit 63 of vf.
            let (n, z, c, vv) = (cx.tmp(), cx.tmp(), cx.tmp(), cx.tmp());
            let s63 = cx.c(63);
            cx.b.shr(n, cx.g.nf, s63);
            let s31 = cx.c(31);
            cx.b.shl(n, n, s31);
            let zero = cx.c(0);
            cx.b.setcond(tcg_ir::Cond::Eq, z, cx.g.zf, zero);
            let s30 = cx.c(30);
            cx.b.shl(z, z, s30);
            let s29 = cx.c(29);
            cx.b.shl(c, cx.g.cf, s29);
            cx.b.shr(vv, cx.g.vf, s63);
            let s28 = cx.c(28);
            cx.b.shl(vv, vv, s28);
            cx.b.or(v, n, z);
            cx.b.or(v, v, c);
            cx.b.or(v, v, vv);
        }
    }
    cx.wr(rt, v, true);
}

/// What an MSR needs after it: nothing, the end of the block (the write may change how
/// later code translates or runs), or a timer exit.
enum MsrEffect {
    Next,
    EndBlock,
    /// End the block, flags unchanged (`BlockEnd::StopLookup`).
    Lookup,
    Timer(crate::Timer),
}

/// `None`: the register is not writable (UNDEF).
fn msr(cx: &mut Ctx, def: &sysregs::Def, rt: Reg) -> Option<MsrEffect> {
    let v = cx.rx(rt);
    match def.kind {
        Kind::Const(_) | Kind::CurrentEl | Kind::Counter | Kind::Isr => return None,
        Kind::Stored { readonly: true, .. } => return None,
        Kind::Stored { slot, wmask, .. } => {
            let t = cx.tmp();
            let m = cx.c(wmask);
            cx.b.and(t, v, m);
            cx.b.st_env(t, off::sysreg(slot), MemOp::UQ);
            // Only CPACR_EL1 and CNTKCTL_EL1 feed the TB flags (`TbFlags::from_env`);
            // the others (ELR, SPSR, VBAR, TPIDR, MAIR, ...) are read where they are
            // used, so the block goes on (Linux writes several on every kernel exit).
            if slot != sysregs::slot::CPACR && slot != sysregs::slot::CNTKCTL {
                return Some(MsrEffect::Next);
            }
        }
        Kind::RazWi => return Some(MsrEffect::Next),
        Kind::Mmu { slot, wmask } => {
            let t = cx.tmp();
            let m = cx.c(wmask);
            cx.b.and(t, v, m);
            let s = cx.c(slot as u64);
            cx.b.call(&helpers::WRITE_MMU_REG, None, &[s, t]);
        }
        Kind::Timer(t, r) => {
            let sel = cx.c(t as u64 | (r as u64) << 1);
            cx.b.call(&helpers::WRITE_TIMER, None, &[sel, v]);
            return Some(MsrEffect::Timer(t));
        }
        Kind::Nzcv => {
            cx.set_nzcv(v);
            return Some(MsrEffect::Next);
        }
        Kind::FpCtl { offset, wmask } => {
            // FPCR/FPSR are read by the FP helpers at run time: no retranslation.
            let t = cx.tmp();
            let m = cx.c(wmask);
            cx.b.and(t, v, m);
            cx.b.st_env(t, offset, MemOp::UQ);
            return Some(MsrEffect::Next);
        }
        Kind::Daif => {
            let t = cx.tmp();
            let m = cx.c(0x3c0);
            cx.b.and(t, v, m);
            cx.b.st_env(t, off::DAIF, MemOp::UQ);
            cx.b.call(&helpers::CHECK_IRQ, None, &[]);
            return Some(MsrEffect::Lookup);
        }
        Kind::SpSel => cx.b.call(&helpers::SET_SPSEL, None, &[v]),
        Kind::SpEl0 => {
            cx.b.call(&helpers::WRITE_SP_EL0, None, &[v]);
            return Some(MsrEffect::Lookup);
        }
        Kind::Icc(r) => {
            // The write may raise this CPU's IRQ line (PMR, EOI, an SGI to self): the
            // GIC kicks the vCPU, and the block ends so the interrupt is taken next.
            let sel = cx.c(r.index());
            cx.b.call(&helpers::WRITE_ICC, None, &[sel, v]);
        }
    }
    Some(MsrEffect::EndBlock)
}

/// SYS (no result): cache maintenance, address translation and TLB invalidation.
fn sys(cx: &mut Ctx, op1: u8, crn: u8, crm: u8, op2: u8, rt: Reg) -> BlockEnd {
    let el0 = cx.flags.el == 0;
    let next = cx.pc.wrapping_add(4);
    match (op1, crn, crm, op2) {
        (3, 7, 4, 1) if cx.flags.el0_denied(Ctl::DZE) => {
            cx.trap_sysreg(SysReg::new(1, op1, crn, crm, op2), rt.encoding(), false)
        }
        (3, 7, 10 | 11 | 14, 1) | (3, 7, 5, 1) if cx.flags.el0_denied(Ctl::UCI) => {
            cx.trap_sysreg(SysReg::new(1, op1, crn, crm, op2), rt.encoding(), false)
        }
        // DC ZVA: zero the 64-byte block (DCZID_EL0 says 2^4 words).
        (3, 7, 4, 1) => {
            let a = cx.tmp();
            let base = cx.rx(rt);
            let m = cx.c(!63);
            cx.b.and(a, base, m);
            let zero = cx.c(0);
            let mmu = cx.flags.mmu_idx();
            for k in 0..8u64 {
                let p = cx.tmp();
                let o = cx.c(8 * k);
                cx.b.add(p, a, o);
                cx.b.qemu_st(zero, p, MemOp::UQ, mmu);
            }
            BlockEnd::Next
        }
        // DC CVAC/CVAU/CIVAC and IC IVAU (EL0 too when SCTLR_EL1.UCI allows): no caches
        // are modelled. Code changes are caught by the stores themselves
        // (self-modifying-code tracking).
        (3, 7, 10 | 11 | 14, 1) | (3, 7, 5, 1) => BlockEnd::Next,
        _ if el0 => cx.undef(),
        // DC IVAC / ISW / CSW / CISW, IC IALLU / IALLUIS: no-ops; end the block so an
        // instruction-cache invalidation is followed by a fresh TB lookup.
        (0, 7, 6, 1 | 2) | (0, 7, 10, 2) | (0, 7, 14, 2) => BlockEnd::Next,
        (0, 7, 5 | 1, 0) => BlockEnd::StopAfter,
        // AT S1E1R, S1E1W, S1E0R, S1E0W: PAR_EL1 from a walk that does not fill the TLB.
        (0, 7, 8, 0..=3) => {
            let va = cx.rx(rt);
            let sel = cx.c(op2 as u64);
            cx.b.call(&helpers::AT, None, &[va, sel]);
            BlockEnd::Next
        }
        // TLBI VMALLE1, VAE1, ASIDE1, VAAE1, VALE1, VAALE1 and their inner-shareable forms
        // (CRm = 3), which reach every vCPU before this one executes its next
        // instruction. The operation rides in the operand word (see `helpers::tlbi`). The
        // range and outer-shareable forms (FEAT_TLBIRANGE, FEAT_TLBIOS) are not
        // advertised: UNDEF.
        (0, 8, 7 | 3, 0 | 1 | 2 | 3 | 5 | 7) => {
            use helpers::tlbi;
            let word = cx.tmp();
            let xt = if op2 as u64 == tlbi::VMALLE1 {
                cx.c(0)
            } else {
                cx.rx(rt)
            };
            let keep = cx.c(!tlbi::MASK);
            cx.b.and(word, xt, keep);
            let op = cx.c((op2 as u64) << tlbi::SHIFT);
            cx.b.or(word, word, op);
            cx.b.call(&helpers::TLBI, None, &[word]);
            if crm == 3 {
                let p = cx.vpc(next);
                cx.b.mov(cx.g.pc, p);
                cx.b.st_env(word, off::EXIT_INFO, MemOp::UQ);
                cx.b.exit_tb(exits::TLBI_BROADCAST);
                BlockEnd::Exited
            } else {
                BlockEnd::StopAfter
            }
        }
        _ => cx.undef(),
    }
}

/// DCZID_EL0.BS: DC ZVA zeroes 2^4 words.
const DCZID_BS: u64 = 4;

/// The syndrome of a trapped WFI (`wfe` false) or WFE.
fn wfx_esr(wfe: bool) -> u64 {
    crate::except::esr(crate::except::ec::WFX, 1 << 24 | 0xe << 20 | wfe as u64)
}

/// The definition of `reg` for an MRS (`read`) or MSR, if the access is allowed here:
/// ICC registers only with a GICv3 and only in their direction (the others are UNDEFINED).
fn icc_visible(cx: &Ctx, reg: SysReg, read: bool) -> Option<&'static sysregs::Def> {
    let def = sysregs::lookup(reg)?;
    match def.kind {
        Kind::Icc(r) => {
            let dir = if read { r.readable() } else { r.writable() };
            (cx.flags.ctl.contains(Ctl::GICV3) && dir).then_some(def)
        }
        _ => Some(def),
    }
}

/// The EL0 rule for an MRS/MSR (everything is allowed at EL1).
fn el0_rule(cx: &Ctx, reg: SysReg, read: bool) -> El0Access {
    if cx.flags.el == 0 {
        sysregs::el0_access(reg, read, cx.flags.ctl)
    } else {
        El0Access::Allowed
    }
}

pub(super) fn translate(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    let next = cx.pc.wrapping_add(4);
    let el0 = cx.flags.el == 0;
    match insn {
        Insn::Hint(h) => match h {
            // EL0 WFI/WFE trap (EC 0x01, CV = 1, COND = 0xe, TI) unless SCTLR_EL1.nTWx.
            Hint::Wfi if cx.flags.el0_denied(Ctl::NTWI) => return cx.trap(wfx_esr(false)),
            Hint::Wfe if cx.flags.el0_denied(Ctl::NTWE) => return cx.trap(wfx_esr(true)),
            Hint::Wfi => {
                cx.exit_with(exits::WFI, next, 0);
                return BlockEnd::Exited;
            }
            Hint::Wfe => {
                cx.exit_with(exits::WFE, next, 0);
                return BlockEnd::Exited;
            }
            Hint::Sev => {
                cx.exit_with(exits::SEV, next, 0);
                return BlockEnd::Exited;
            }
            // YIELD ends the block so a spinning vCPU sees an exit request (its slice
            // ending, a kick) at the next TB entry; it needs no trip to the loop.
            Hint::Yield => return BlockEnd::StopLookup,
            // Everything else is a NOP here: the ID registers advertise neither PAuth nor
            // BTI, and ESB/PSB/TSB/CSDB have no effect on an emulator without RAS, SPE,
            // trace or speculation.
            Hint::Nop
            | Hint::Sevl
            | Hint::Xpaclri
            | Hint::Pac { .. }
            | Hint::Esb
            | Hint::PsbCsync
            | Hint::TsbCsync
            | Hint::Csdb
            | Hint::Bti(_)
            | Hint::Other(_) => {}
        },
        Insn::Barrier { kind, option } => match kind {
            BarrierKind::Dmb | BarrierKind::Dsb => {
                // Option LD (xx01) orders loads against everything; ST (xx10) stores
                // against stores; anything else is a full barrier.
                let flags = match option & 3 {
                    1 => BarrierFlags::LD_LD | BarrierFlags::LD_ST,
                    2 => BarrierFlags::ST_ST,
                    _ => BarrierFlags::ALL,
                };
                cx.b.mb(flags);
            }
            // ISB: later instructions see earlier context changes: end the block. Every
            // change of the TB flags ended its own block, so the flags are still these.
            BarrierKind::Isb => return BlockEnd::StopLookup,
            // SB: nothing executes speculatively here.
            BarrierKind::Sb => {}
        },
        Insn::Exception {
            kind: ExceptionKind::Hvc,
            imm16,
        } if !el0 => {
            cx.exit_with(exits::HVC, next, imm16 as u64);
            return BlockEnd::Exited;
        }
        Insn::Exception {
            kind: ExceptionKind::Svc,
            imm16,
        } => {
            cx.exit_with(exits::SVC, next, imm16 as u64);
            return BlockEnd::Exited;
        }
        Insn::Exception {
            kind: ExceptionKind::Brk,
            imm16,
        } => {
            cx.exit_with(exits::BRK, cx.pc, imm16 as u64);
            return BlockEnd::Exited;
        }
        // HVC at EL0, SMC without EL3, HLT without halting debug: UNDEFINED.
        Insn::Exception { .. } => return cx.undef(),
        Insn::Mrs { reg, .. } | Insn::Msr { reg, .. }
            if matches!(reg, SysReg::FPCR | SysReg::FPSR) && cx.fp_trapped().is_some() =>
        {
            return BlockEnd::Exited;
        }
        Insn::Mrs { rt, reg } => match (icc_visible(cx, reg, true), el0_rule(cx, reg, true)) {
            (_, El0Access::Undef) | (None, _) => return cx.undef(),
            (_, El0Access::Trap) => return cx.trap_sysreg(reg, rt.encoding(), true),
            // DCZID_EL0.DZP tells EL0 whether DC ZVA is allowed.
            (Some(_), _) if reg == SysReg::DCZID_EL0 && cx.flags.el0_denied(Ctl::DZE) => {
                let v = cx.c(DCZID_BS | 0x10);
                cx.wr(rt, v, true);
            }
            (Some(def), El0Access::Allowed) => mrs(cx, rt, def),
        },
        Insn::Msr { reg, rt } => match (icc_visible(cx, reg, false), el0_rule(cx, reg, false)) {
            (_, El0Access::Undef) | (None, _) => return cx.undef(),
            (_, El0Access::Trap) => return cx.trap_sysreg(reg, rt.encoding(), false),
            (Some(def), El0Access::Allowed) => match msr(cx, def, rt) {
                None => return cx.undef(),
                Some(MsrEffect::EndBlock) => return BlockEnd::StopAfter,
                Some(MsrEffect::Lookup) => return BlockEnd::StopLookup,
                Some(MsrEffect::Timer(t)) => {
                    cx.exit_with(exits::TIMER, next, t as u64);
                    return BlockEnd::Exited;
                }
                Some(MsrEffect::Next) => {}
            },
        },
        Insn::MsrImm { op1, crm, op2 } => {
            let field = insn.pstate_field();
            let daif = matches!(field, Some(PstateField::DaifSet | PstateField::DaifClr));
            if daif && cx.flags.el0_denied(Ctl::UMA) {
                return cx.trap_sysreg(SysReg::new(0, op1, 4, crm, op2), 31, false);
            }
            match field {
                Some(PstateField::DaifSet) | Some(PstateField::DaifClr) => {
                    let d = cx.tmp();
                    cx.b.ld_env(d, off::DAIF, MemOp::UQ);
                    let bits = cx.c(((crm as u64) & 0xf) << 6);
                    if field == Some(PstateField::DaifSet) {
                        cx.b.or(d, d, bits);
                    } else {
                        cx.b.andc(d, d, bits);
                    }
                    cx.b.st_env(d, off::DAIF, MemOp::UQ);
                    // Unmasking may make a pending interrupt deliverable: the helper then
                    // requests the exit the next TB's entry takes.
                    cx.b.call(&helpers::CHECK_IRQ, None, &[]);
                    return BlockEnd::StopLookup;
                }
                Some(PstateField::SpSel) if !el0 => {
                    let v = cx.c(crm as u64 & 1);
                    cx.b.call(&helpers::SET_SPSEL, None, &[v]);
                    return BlockEnd::StopAfter;
                }
                _ => return cx.undef(),
            }
        }
        Insn::Sys {
            l: false,
            op1,
            crn,
            crm,
            op2,
            rt,
        } => return sys(cx, op1, crn, crm, op2, rt),
        _ => return cx.undef(),
    }
    BlockEnd::Next
}
