//! System instructions: hints (WFI/WFE/SEV), barriers, exception generation, MRS/MSR,
//! MSR (immediate), SYS (cache/TLB maintenance) and ERET.

use super::{BlockEnd, Ctx};
use crate::exits;
use crate::helpers;
use crate::state::off;
use crate::sysregs::{self, Kind};
use arm_decode::{BarrierKind, ExceptionKind, Hint, Insn, PstateField, Reg};
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
        Kind::Nzcv => {
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

/// Returns true when the write may change how later code translates or runs.
fn msr(cx: &mut Ctx, def: &sysregs::Def, rt: Reg) -> Option<bool> {
    let v = cx.rx(rt);
    match def.kind {
        Kind::Const(_) | Kind::CurrentEl | Kind::Counter => return None,
        Kind::Stored { readonly: true, .. } => return None,
        Kind::Stored { slot, wmask, .. } => {
            let t = cx.tmp();
            let m = cx.c(wmask);
            cx.b.and(t, v, m);
            cx.b.st_env(t, off::sysreg(slot), MemOp::UQ);
            return Some(true);
        }
        Kind::Nzcv => {
            let s = cx.c(32);
            cx.b.shl(cx.g.nf, v, s);
            let z = cx.tmp();
            cx.b.extract(z, v, 30, 1);
            let one = cx.c(1);
            cx.b.xor(cx.g.zf, z, one);
            cx.b.extract(cx.g.cf, v, 29, 1);
            let s35 = cx.c(35);
            cx.b.shl(cx.g.vf, v, s35);
            let m = cx.c(1 << 63);
            cx.b.and(cx.g.vf, cx.g.vf, m);
            cx.b.and(cx.g.nf, cx.g.nf, m);
            return Some(false);
        }
        Kind::Daif => {
            let t = cx.tmp();
            let m = cx.c(0x3c0);
            cx.b.and(t, v, m);
            cx.b.st_env(t, off::DAIF, MemOp::UQ);
        }
        Kind::SpSel => cx.b.call(&helpers::SET_SPSEL, None, &[v]),
        Kind::SpEl0 => cx.b.call(&helpers::WRITE_SP_EL0, None, &[v]),
    }
    Some(true)
}

pub(super) fn translate(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    let next = cx.pc.wrapping_add(4);
    let el0 = cx.flags.el == 0;
    match insn {
        Insn::Hint(h) => match h {
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
            // YIELD ends the block so a spinning vCPU reaches the scheduler sooner.
            Hint::Yield => return BlockEnd::StopAfter,
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
            // ISB: later instructions see earlier context changes: end the block.
            BarrierKind::Isb => return BlockEnd::StopAfter,
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
        Insn::Exception { .. } | Insn::Eret => {
            cx.exit_with(exits::EXCEPTION_INSN, cx.pc, cx.word as u64);
            return BlockEnd::Exited;
        }
        Insn::Mrs { rt, reg } => match sysregs::lookup(reg) {
            Some(def) if !el0 || sysregs::el0_accessible(reg) => mrs(cx, rt, def),
            _ => return cx.undef(),
        },
        Insn::Msr { reg, rt } => match sysregs::lookup(reg) {
            Some(def) if !el0 || sysregs::el0_accessible(reg) => match msr(cx, def, rt) {
                None => return cx.undef(),
                Some(true) => return BlockEnd::StopAfter,
                Some(false) => {}
            },
            _ => return cx.undef(),
        },
        Insn::MsrImm { crm, .. } => {
            let field = insn.pstate_field();
            match field {
                Some(PstateField::DaifSet) | Some(PstateField::DaifClr) if !el0 => {
                    let d = cx.tmp();
                    cx.b.ld_env(d, off::DAIF, MemOp::UQ);
                    let bits = cx.c(((crm as u64) & 0xf) << 6);
                    if field == Some(PstateField::DaifSet) {
                        cx.b.or(d, d, bits);
                    } else {
                        cx.b.andc(d, d, bits);
                    }
                    cx.b.st_env(d, off::DAIF, MemOp::UQ);
                    // Unmasking may make a pending interrupt deliverable.
                    return BlockEnd::StopAfter;
                }
                Some(PstateField::SpSel) if !el0 => {
                    let v = cx.c(crm as u64 & 1);
                    cx.b.call(&helpers::SET_SPSEL, None, &[v]);
                    return BlockEnd::StopAfter;
                }
                _ => return cx.undef(),
            }
        }
        Insn::Sys { l: false, .. } if !el0 => {
            // Cache and TLB maintenance: no caches are modelled and with the MMU off the
            // TLB holds identity entries only, so these are no-ops for now; end the block
            // so TLB/IC operations take effect before the next instruction.
            return BlockEnd::StopAfter;
        }
        _ => return cx.undef(),
    }
    BlockEnd::Next
}
