//! Position-independent blocks: a block translated at its physical address and entered at
//! another virtual address computes every pc-derived value (branch targets, link
//! registers, ADR/ADRP, the pc an exit leaves) from the pc it was entered at. A block that
//! leaks its translation address sends the guest to a physical address once the MMU maps
//! the code elsewhere (the Linux kernel runs at 0xffff8000_08000000 from RAM at 0x40200000).

mod common;

use arm_cpu::translate::translate_block;
use common::{backends, Machine, RAM};
use softmmu::PhysAddr;

/// Where the block is entered: same page offset as `RAM`, different page.
const VA: u64 = 0xffff_8000_0820_0000;

/// Translates `code` at `RAM`, runs it once entered at `VA` and returns the machine.
fn run_at_va(code: &[u32], be: &dyn tcg_ir::Backend) -> (Machine, u64) {
    let mut m = Machine::new(code);
    m.env.x[0] = VA >> 12;
    let page = m.phys.ram_ptr(PhysAddr(RAM), 4096).expect("ram page");
    // SAFETY: `page` is the host view of the RAM page holding the code.
    let (mut f, _, _) = unsafe { translate_block(page, RAM, m.flags) };
    tcg_opt::optimize(&mut f);
    let tb = be.compile(&f).expect("compile");
    m.env.pc = VA;
    let env: *mut arm_cpu::state::CpuEnv = &mut *m.env;
    // SAFETY: `env` is a live CpuEnv used only by this thread.
    let code = unsafe { tb.exec(env as *mut u8) };
    (m, code)
}

#[test]
fn block_ends_leave_the_pc_relative_to_the_entry_pc() {
    // (name, code, expected pc offset from VA after the block)
    let cases: &[(&str, &[u32], u64)] = &[
        ("b +8", &[0x1400_0002], 8),
        ("bl +8", &[0x9400_0002], 8),
        ("cbz x1, +12", &[0xb400_0061], 12),
        ("tlbi vae1is, x0", &[0xd508_8320], 4),
        ("tlbi vmalle1is", &[0xd508_831f], 4),
        ("tlbi vae1, x0", &[0xd508_8720], 4),
        ("isb", &[0xd503_3fdf], 4),
        ("msr daifclr, #2", &[0xd503_42ff], 4),
        ("wfi", &[0xd503_207f], 4),
        ("svc #0", &[0xd400_0001], 4),
        ("hvc #0", &[0xd400_0002], 4),
        ("brk #0", &[0xd420_0000], 0),
        ("udf", &[0x0000_0000], 0),
    ];
    for be in backends() {
        for &(name, code, off) in cases {
            let (m, exit) = run_at_va(code, &*be);
            assert_eq!(
                m.env.pc,
                VA + off,
                "{name} on {} (exit {exit:#x}): pc leaked the translation address",
                be.name()
            );
        }
    }
}

#[test]
fn link_and_address_values_are_relative_to_the_entry_pc() {
    for be in backends() {
        // bl +8: x30 = entry + 4.
        let (m, _) = run_at_va(&[0x9400_0002], &*be);
        assert_eq!(m.env.x[30], VA + 4, "bl link on {}", be.name());
        // adr x1, #16; adrp x2, #0x1000
        let (m, _) = run_at_va(&[0x1000_0081, 0xb000_0002], &*be);
        assert_eq!(m.env.x[1], VA + 16, "adr on {}", be.name());
        assert_eq!(m.env.x[2], (VA & !0xfff) + 0x1000, "adrp on {}", be.name());
    }
}
