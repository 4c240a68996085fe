//! Branches: B/BL, BR/BLR/RET, B.cond, CBZ/CBNZ, TBZ/TBNZ.

use super::{BlockEnd, Ctx};
use arm_decode::{BranchRegKind, Cond as ACond, Insn, Reg};
use tcg_ir::types::Cond;

/// Ends the block with a two-way branch: `taken` when `a cond b`, else fall through.
fn two_way(cx: &mut Ctx, cond: Cond, a: tcg_ir::Temp, b: tcg_ir::Temp, taken: u64) {
    let not_taken = cx.b.new_label();
    cx.b.brcond(cond.invert(), a, b, not_taken);
    cx.goto(0, taken);
    cx.b.set_label(not_taken);
    let next = cx.pc.wrapping_add(4);
    cx.goto(1, next);
}

pub(super) fn translate(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    let target = |off: i64, pc: u64| pc.wrapping_add(off as u64);
    match insn {
        Insn::Branch { link, offset } => {
            if link {
                let ret = cx.vpc(cx.pc.wrapping_add(4));
                cx.wr(Reg::LR, ret, true);
            }
            return BlockEnd::Jump(target(offset, cx.pc));
        }
        Insn::BranchReg { kind, rn } => {
            // Read the target before BLR overwrites X30.
            let t = cx.tmp();
            let v = cx.rx(rn);
            cx.b.mov(t, v);
            if kind == BranchRegKind::Blr {
                let ret = cx.vpc(cx.pc.wrapping_add(4));
                cx.wr(Reg::LR, ret, true);
            }
            cx.b.mov(cx.g.pc, t);
            cx.lookup_exit(t);
        }
        Insn::BranchCond { cond, offset } => {
            let dest = target(offset, cx.pc);
            if matches!(cond, ACond::Al | ACond::Nv) {
                cx.goto(0, dest);
            } else {
                let t = cx.cond_test(cond);
                two_way(cx, t.cond, t.a, t.b, dest);
            }
        }
        Insn::CompareBranch {
            is64,
            nonzero,
            rt,
            offset,
        } => {
            let v = cx.rw(rt, is64);
            let z = cx.c(0);
            let cond = if nonzero { Cond::Ne } else { Cond::Eq };
            two_way(cx, cond, v, z, target(offset, cx.pc));
        }
        Insn::TestBranch {
            nonzero,
            rt,
            bit,
            offset,
        } => {
            let v = cx.rx(rt);
            let m = cx.c(1u64 << (bit & 63));
            let cond = if nonzero { Cond::TstNe } else { Cond::TstEq };
            two_way(cx, cond, v, m, target(offset, cx.pc));
        }
        // ERET (EL1 only): PSTATE from SPSR_EL1, PC from ELR_EL1, then a TB lookup.
        Insn::Eret if cx.flags.el != 0 => {
            cx.b.call(&crate::helpers::ERET, None, &[]);
            cx.b.exit_tb(tcg_ir::ExitCode::LOOKUP);
        }
        _ => return cx.undef(),
    }
    BlockEnd::Exited
}
