//! A look at the code a block continues at, to leave NZCV unwritten where it is dead.
//!
//! Compiled loops compare and branch in almost every block, and the next block usually
//! compares again before it branches: the flags one block leaves are overwritten unread.
//! When the instructions at a direct exit's target (in the block's page) overwrite all
//! four flags before anything reads them or control leaves straight-line code, that exit
//! needs no flags, and the block's writes of the flag globals only that exit would see are
//! dropped (a CMP then costs nothing beyond its fused branch).
//!
//! The bytes looked at are in the block's page, and the block depends on them
//! (`Block::size` / `Block::before` cover them), so rewriting them invalidates the block.
//!
//! What can tell: an exception or interrupt taken after the exit, before the target
//! overwrites the flags, saves the stale NZCV in SPSR (and restores it on return, before
//! they are overwritten unread). A debugger could show them, so with one attached
//! ([`super::Ctl::EXACT_NZCV`]) or breakpoints set, nothing is looked at.

use super::Ctx;
use arm_decode::{decode, Insn, InsnClass, LogicOp};
use softmmu::layout::PAGE_MASK;
use tcg_ir::{Func, OpFlags, Opc};

/// Instructions looked at per exit, across followed branches.
const WINDOW: u32 = 16;

/// What an instruction means for the flags live before it.
enum Effect {
    /// Writes all four, reading none: dead before it.
    Kill,
    /// Neither reads nor writes them: on to the next instruction.
    Step,
    /// An unconditional branch (within the page: followed).
    Jump(u64),
    /// A branch that does not test the flags: dead if dead on both paths.
    Fork(u64),
    /// May read them, or leaves what can be followed.
    Live,
}

fn effect(insn: Insn, pc: u64) -> Effect {
    use Effect::*;
    use Insn::*;
    let to = |offset: i64| pc.wrapping_add(offset as u64);
    match insn {
        AddSubImm { set_flags, .. }
        | AddSubShifted { set_flags, .. }
        | AddSubExtended { set_flags, .. } => {
            if set_flags {
                Kill
            } else {
                Step
            }
        }
        LogicalImm { op, .. } | LogicalShifted { op, .. } => {
            if op == LogicOp::Ands {
                Kill
            } else {
                Step
            }
        }
        MoveWide { .. }
        | Adr { .. }
        | Bitfield { .. }
        | Extr { .. }
        | DataProc1 { .. }
        | DataProc2 { .. }
        | DataProc3 { .. } => Step,
        Branch {
            link: false,
            offset,
        } => Jump(to(offset)),
        CompareBranch { offset, .. } | TestBranch { offset, .. } => Fork(to(offset)),
        FpCompare { .. } => Kill,
        FpCondCompare { .. } | FpCondSelect { .. } => Live,
        Hint(_) | Barrier { .. } => Step,
        _ => match insn.class() {
            InsnClass::LoadStore | InsnClass::FpSimd => Step,
            _ => Live,
        },
    }
}

/// Whether NZCV is dead at `target` (an address in the block's page): every path from it
/// within [`WINDOW`] instructions overwrites all four flags before reading any. Records
/// the bytes read in `cx.span`.
pub(super) fn flags_dead_at(cx: &mut Ctx, target: u64) -> bool {
    let mut budget = WINDOW;
    dead_from(cx, target, &mut budget)
}

fn dead_from(cx: &mut Ctx, mut pc: u64, budget: &mut u32) -> bool {
    loop {
        if *budget == 0 || (pc ^ cx.start_pc) & PAGE_MASK != 0 || pc & 3 != 0 {
            return false;
        }
        *budget -= 1;
        let offset = (pc & !PAGE_MASK) as usize;
        // SAFETY: `cx.code` is the host view of the block's whole page (the contract of
        // `translate_block_debug`), and `pc` is a 4-aligned address of that page.
        let word = unsafe { (cx.code.add(offset) as *const u32).read_unaligned() }.to_le();
        cx.span = (cx.span.0.min(pc), cx.span.1.max(pc + 4));
        match effect(decode(word), pc) {
            Effect::Kill => return true,
            Effect::Step => pc = pc.wrapping_add(4),
            Effect::Jump(t) => pc = t,
            Effect::Fork(t) => {
                return dead_from(cx, pc.wrapping_add(4), budget) && dead_from(cx, t, budget)
            }
            Effect::Live => return false,
        }
    }
}

/// Drops the writes of the flag globals no path from them reads: each path ends at an
/// exit in `dead_exits` (`goto_tb` slots whose target overwrites the flags) or at another
/// write, before any read, guest memory access, helper call, env access or other exit
/// (which may leave the block where the flags are live, or fault and expose them). A
/// backward walk from the end, which stops at the first such access.
pub(super) fn drop_dead_flag_writes(func: &mut Func, g: &super::Globals, dead_exits: u8) {
    const ALL: u8 = 0x7f;
    // The flag globals are consecutive temps (`Ctx::new` makes them in this order).
    let flags = [g.nf, g.zf, g.cf, g.vf, g.cc_a, g.cc_b, g.cc_pending];
    let base = g.nf.0;
    if !flags.iter().zip(base..).all(|(f, i)| f.0 == i) {
        return;
    }
    let bit = |t: tcg_ir::Temp| {
        let i = t.0.wrapping_sub(base);
        if i < 7 {
            1u8 << i
        } else {
            0
        }
    };
    let nlabels = func.nb_labels as usize;
    // Live flags at each label the backward walk passed (`None`: not yet passed).
    let mut at_label: Vec<Option<u8>> = vec![None; nlabels];
    let dead_slot = |op: &tcg_ir::Op| {
        op.cargs
            .first()
            .is_some_and(|&s| s < 8 && dead_exits & (1 << s) != 0)
    };
    let mut live = ALL;
    for i in (0..func.ops.len()).rev() {
        let op = &func.ops[i];
        match op.opc {
            Opc::GotoTb => live = if dead_slot(op) { 0 } else { ALL },
            // The `exit_tb` after a `goto_tb` leaves for the same target.
            Opc::ExitTb => {
                let after_dead_goto = i
                    .checked_sub(1)
                    .map(|p| &func.ops[p])
                    .is_some_and(|p| p.opc == Opc::GotoTb && dead_slot(p));
                live = if after_dead_goto { 0 } else { ALL };
            }
            Opc::SetLabel => {
                if let Some(l) = op.cargs.first().and_then(|&l| at_label.get_mut(l as usize)) {
                    *l = Some(live);
                }
            }
            Opc::Br | Opc::Brcond => {
                let l = op.cargs.get(if op.opc == Opc::Br { 0 } else { 1 });
                // A backward branch (its label not passed yet): everything live.
                let target = l
                    .and_then(|&l| at_label.get(l as usize).copied().flatten())
                    .unwrap_or(ALL);
                live = if op.opc == Opc::Br {
                    target
                } else {
                    live | target
                };
            }
            Opc::InsnStart | Opc::Mb => {}
            opc if opc.flags().contains(OpFlags::PURE) => {
                let written = op.oargs.iter().fold(0, |m, &t| m | bit(t));
                if written != 0 && op.oargs.len() == 1 && written & live == 0 {
                    // Becomes `mov g, g`, which `tcg_opt`'s copy propagation removes
                    // with what it removes anyway (instead of moving ops here).
                    let op = &mut func.ops[i];
                    let g = op.oargs[0];
                    op.opc = Opc::Mov;
                    op.ty = tcg_ir::Type::I64;
                    op.iargs.clear();
                    op.iargs.push(g);
                    op.cargs.clear();
                    continue;
                }
                live &= !written;
            }
            // Every flag is live here: the writes before it are kept (the walk could
            // only find dead ones among those a branch leads around this op, which
            // translations hardly have).
            _ => break,
        }
        for &t in &op.iargs {
            live |= bit(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{translate_block_debug, Block, BlockDebug, Ctl, TbFlags};

    const BASE: u64 = 0x4008_0000;
    const CMP_W5_W4: u32 = 0x6b04_00bf;
    const CMP_X2_X3: u32 = 0xeb03_005f;
    const LDR_W4_POST: u32 = 0xb840_4424; // ldr w4, [x1], #4
    const NOP: u32 = 0xd503_201f;
    const CSEL_X0_EQ: u32 = 0x9a82_0020; // csel x0, x1, x2, eq
    const LS: u32 = 9;

    fn b_cond(cond: u32, from: u64, to: u64) -> u32 {
        let imm = ((to as i64 - from as i64) >> 2) as u32 & 0x7_ffff;
        0x5400_0000 | imm << 5 | cond
    }

    fn b(from: u64, to: u64) -> u32 {
        0x1400_0000 | ((to as i64 - from as i64) >> 2) as u32 & 0x3ff_ffff
    }

    fn cbz_x0(from: u64, to: u64) -> u32 {
        let imm = ((to as i64 - from as i64) >> 2) as u32 & 0x7_ffff;
        0xb400_0000 | imm << 5
    }

    /// Translates the block at `BASE + start` of a page holding `words` (at their
    /// offsets; UDF elsewhere).
    fn block(words: &[(u64, &[u32])], start: u64, flags: TbFlags, bps: &[u64]) -> Block {
        let mut page = vec![0u32; 1024];
        for &(off, ws) in words {
            for (i, &w) in ws.iter().enumerate() {
                page[off as usize / 4 + i] = w;
            }
        }
        let dbg = BlockDebug {
            vpc: BASE + start,
            breakpoints: bps,
            one_insn: false,
        };
        // SAFETY: `page` is a whole 4 KiB page of code.
        unsafe { translate_block_debug(page.as_ptr() as *const u8, BASE + start, flags, &dbg) }
    }

    /// Ops of the block writing a flag global (but `mov g, g`, what a dropped write
    /// becomes).
    fn flag_writes(b: &Block) -> usize {
        let f = &b.func;
        let is_flag = |t: tcg_ir::Temp| {
            f.temps[t.index()].name.as_deref().is_some_and(|n| {
                ["nf", "zf", "cf", "vf", "cc_a", "cc_b", "cc_pending"].contains(&n)
            })
        };
        f.ops
            .iter()
            .filter(|op| op.oargs.iter().any(|&t| is_flag(t)))
            .filter(|op| !(op.opc == tcg_ir::Opc::Mov && op.iargs[..] == op.oargs[..]))
            .count()
    }

    fn flags() -> TbFlags {
        TbFlags::at_el(1)
    }

    #[test]
    fn a_compare_both_targets_overwrite_writes_no_flags() {
        // Taken: a load, a nop, then a compare; not taken: a compare at once.
        let code: &[(u64, &[u32])] = &[
            (0x100, &[CMP_W5_W4, b_cond(LS, 0x104, 0x180), CMP_X2_X3]),
            (0x180, &[LDR_W4_POST, NOP, CMP_W5_W4]),
        ];
        let b = block(code, 0x100, flags(), &[]);
        assert_eq!(b.insns, 2);
        assert_eq!(flag_writes(&b), 0);
        // It depends on the bytes it looked at.
        assert_eq!((b.before, b.size), (0, 0x8c));
        // The same block where the taken target reads the flags first keeps them.
        let code: &[(u64, &[u32])] = &[
            (0x100, &[CMP_W5_W4, b_cond(LS, 0x104, 0x180), CMP_X2_X3]),
            (0x180, &[NOP, CSEL_X0_EQ, CMP_W5_W4]),
        ];
        assert!(flag_writes(&block(code, 0x100, flags(), &[])) > 0);
    }

    #[test]
    fn a_backward_target_counts_the_bytes_before_the_block() {
        let code: &[(u64, &[u32])] = &[
            (0x40, &[CMP_X2_X3]),
            (0x100, &[CMP_W5_W4, b_cond(LS, 0x104, 0x40), CMP_X2_X3]),
        ];
        let b = block(code, 0x100, flags(), &[]);
        assert_eq!(flag_writes(&b), 0);
        assert_eq!((b.before, b.size), (0xc0, 0xc));
    }

    #[test]
    fn branches_are_followed_and_forks_need_both_paths() {
        // b to a cbz whose both paths compare.
        let code: &[(u64, &[u32])] = &[
            (0x100, &[CMP_W5_W4, b_cond(LS, 0x104, 0x200), CMP_X2_X3]),
            (0x200, &[b(0x200, 0x300)]),
            (0x300, &[cbz_x0(0x300, 0x400), CMP_X2_X3]),
            (0x400, &[CMP_W5_W4]),
        ];
        assert_eq!(flag_writes(&block(code, 0x100, flags(), &[])), 0);
        // One path of the fork reads them.
        let code: &[(u64, &[u32])] = &[
            (0x100, &[CMP_W5_W4, b_cond(LS, 0x104, 0x300), CMP_X2_X3]),
            (0x300, &[cbz_x0(0x300, 0x400), CMP_X2_X3]),
            (0x400, &[CSEL_X0_EQ]),
        ];
        assert!(flag_writes(&block(code, 0x100, flags(), &[])) > 0);
    }

    #[test]
    fn flags_stay_when_the_look_cannot_tell() {
        let code: &[(u64, &[u32])] = &[
            (0x100, &[CMP_W5_W4, b_cond(LS, 0x104, 0x180), CMP_X2_X3]),
            (0x180, &[CMP_W5_W4]),
        ];
        // A debugger attached, or breakpoints set.
        let exact = TbFlags {
            ctl: flags().ctl | Ctl::EXACT_NZCV,
            ..flags()
        };
        assert!(flag_writes(&block(code, 0x100, exact, &[])) > 0);
        assert!(flag_writes(&block(code, 0x100, flags(), &[BASE + 0x800])) > 0);
        // A target past the look's window.
        let nops = [NOP; 16];
        let code: &[(u64, &[u32])] = &[
            (0x100, &[CMP_W5_W4, b_cond(LS, 0x104, 0x180), CMP_X2_X3]),
            (0x180, &nops),
            (0x1c0, &[CMP_W5_W4]),
        ];
        assert!(flag_writes(&block(code, 0x100, flags(), &[])) > 0);
        // A target in the next page.
        let code: &[(u64, &[u32])] = &[(0xff8, &[CMP_W5_W4, NOP])];
        assert!(flag_writes(&block(code, 0xff8, flags(), &[])) > 0);
    }

    #[test]
    fn a_memory_access_after_the_write_keeps_it() {
        // A fault at the load would show the compare's flags.
        let code: &[(u64, &[u32])] = &[
            (0x100, &[CMP_W5_W4, LDR_W4_POST, b(0x108, 0x180)]),
            (0x180, &[CMP_W5_W4]),
        ];
        assert!(flag_writes(&block(code, 0x100, flags(), &[])) > 0);
    }
}
