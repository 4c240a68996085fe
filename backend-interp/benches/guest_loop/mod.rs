//! A real guest loop for the interpreter benchmarks: the CRC / insertion sort / FNV-1a /
//! division / sieve loop of `guests/selfcheck_loop.h` as GCC compiled it for the
//! `selfcheck-bench` guest (code words from its disassembly), started at the top of the
//! outer loop with the register state QEMU showed there, translated by the real front
//! end and run by a minimal execution loop that chains TBs the way `vcpu-sched` does.
//!
//! In that guest the loop's data shares a page with its code; here no code-write hook is
//! installed, so this measures the back end, not the self-modifying-code path.

use arm_cpu::state::CpuEnv;
use arm_cpu::translate::{translate_block, TbFlags};
use softmmu::{MemCtx, PhysAddr, PhysMap};
use std::collections::HashMap;
use std::sync::Arc;
use tcg_ir::{Backend, CompiledTb, ExitCode, Func};

const RAM: u64 = 0x4000_0000;
/// Address of `CODE[0]`.
const CODE_AT: u64 = 0x4008_2040;
/// Top of the outer loop.
pub const LOOP: u64 = 0x4008_2048;
/// The code after the loop (not run).
pub const AFTER: u64 = 0x4008_21e8;

#[rustfmt::skip]
const CODE: [u32; 172] = [
    0xf2ffea2e, 0xf2e192ed, 0x91010279, 0xaa1903e0, 0xca4730e7, 0xca0764e7, 0xca476ce7, 0x9b107ce2,
    0xd360fc42, 0xb8004402, 0xeb04001f, 0x54ffff21, 0xaa1903e3, 0x52800022, 0xb9400471, 0x2a0203e0,
    0xaa0303f2, 0x14000005, 0xb9000657, 0x71000400, 0xd1001252, 0x54000d00, 0xb9400257, 0x6b17023f,
    0x54ffff43, 0x11000442, 0xb820d8b1, 0x91001063, 0x7101005f, 0x54fffe21, 0xb94000a2, 0x91011260,
    0x2a0203e3, 0xb8404402, 0x6b03005f, 0x9a942694, 0xeb04001f, 0x54ffff61, 0xaa1903e2, 0xaa0f03f7,
    0x38401440, 0xca170000, 0x9b0b7c17, 0xeb02009f, 0x54ffff81, 0x91004323, 0x12800018, 0xd503201f,
    0x39400320, 0x52800102, 0x4a000318, 0xd503201f, 0x93400300, 0x71000442, 0x0a0c0000, 0x4a580418,
    0x54ffff81, 0x91000739, 0xeb19007f, 0x54fffea1, 0x2a3803f8, 0xd2800031, 0xd2800002, 0xd2800019,
    0xd37be840, 0xb86278b2, 0x91000c43, 0xf240005f, 0xda91063a, 0x91000442, 0xb8656800, 0x91000e31,
    0x9ac30a52, 0x8b090000, 0x9ada0c1a, 0x9b487c03, 0x9341fc63, 0xcb80fc63, 0xd37df07b, 0xcb030363,
    0xcb030000, 0x8b1a0000, 0x8b190000, 0xca000259, 0xf100205f, 0x54fffd61, 0xf240055f, 0x540005a0,
    0x9bcd7d51, 0xca1602e2, 0x9b0e7f20, 0xcb110143, 0x93c2cc42, 0x8b384058, 0x8b430622, 0xca180000,
    0xd345fc42, 0xd37cec56, 0xcb0202d6, 0x8b160856, 0xcb160156, 0x9100054a, 0x2a3603f6, 0x9ad62c16,
    0xeb0a003f, 0x54fff321, 0x90000000, 0x91394000, 0x97fff861, 0xaa1603e1, 0x90000000, 0x91398000,
    0x97fff834, 0xaa1403e1, 0x90000000, 0x9139c000, 0x97fff859, 0xaa1503e1, 0x90000000, 0x913a0000,
    0x97fff855, 0x90000000, 0x913a6000, 0x97fff7aa, 0x97fff8a4, 0x52800000, 0x11000442, 0x91001063,
    0xb820d8b1, 0x7101005f, 0x54fff181, 0x17ffff9b, 0xd2800000, 0xd503201f, 0x7100041f, 0x1a9fd7e2,
    0x38246802, 0x91000400, 0xf108001f, 0x54ffff61, 0x39400880, 0xd2800042, 0x2a0203e3, 0x35000360,
    0x11000460, 0x91000442, 0x1b007c00, 0x7107fc1f, 0x540001cc, 0x38646851, 0x2a0203e3, 0x34ffff31,
    0x93407c00, 0x3824681f, 0x8b020000, 0x7107fc1f, 0x54ffffad, 0x11000460, 0x91000442, 0x1b007c00,
    0x7107fc1f, 0x54fffe8d, 0x91050260, 0xd2800015, 0x38401402, 0x8b0202b5, 0xeb0000df, 0x54ffffa1,
    0x8b1502d6, 0x17ffffaf, 0x52800080, 0x17ffffed,
];

/// X0..X30 at the top of the outer loop (QEMU `-d cpu`, its second iteration).
#[rustfmt::skip]
pub const REGS: [u64; 31] = [
    0x03449ae5d22e1b3b, 0, 0, 0, 0x40082ff0, 0x40082ef0, 0x400831f0, 0xcc41e81a94ea258d,
    0x4924924924924925, 0xffffffff80000000, 1, 0x00000100000001b3, 0xedb88320,
    0x0c9714fbcda3ac11, 0xff51afd7ed558ccd, 0xcbf29ce484222325, 0x2545f4914f6cdd1d, 0,
    0x000000000454cf13, 0x40082eb0, 0, 0x61, 0x068935cba45c3676, 0xe2e22c217dba3a0e,
    0xaab3005f04d63012, 0xffffffff811017cd, 0xfffffffffd050fb1, 0x4aee7578, 3, 0x400a3f80,
    0x40081fa4,
];

/// The optimised IR of the TB at `pc` of the loop.
pub fn tb_ir(pc: u64) -> Func {
    let mut page = vec![0u8; 4096];
    for (i, w) in CODE.iter().enumerate() {
        let o = (CODE_AT & 0xfff) as usize + 4 * i;
        page[o..o + 4].copy_from_slice(&w.to_le_bytes());
    }
    // SAFETY: `page` is the 4 KiB page holding the loop.
    let (mut f, _, _) = unsafe { translate_block(page.as_ptr(), pc, TbFlags::at_el(1)) };
    tcg_opt::optimize(&mut f);
    f
}

pub struct Machine {
    pub env: Box<CpuEnv>,
    _ctx: Box<MemCtx>,
    phys: Arc<PhysMap>,
    /// TB start -> (guest instructions, code).
    pub tbs: HashMap<u64, (u64, Arc<dyn CompiledTb>)>,
    chain: bool,
}

impl Machine {
    /// `chain`: patch `goto_tb` exits as the scheduler does.
    pub fn new(chain: bool) -> Machine {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(RAM), 4 << 20).expect("ram");
        let bytes: Vec<u8> = CODE.iter().flat_map(|w| w.to_le_bytes()).collect();
        m.write_bytes(PhysAddr(CODE_AT), &bytes).expect("code");
        let phys = Arc::new(m);
        let ctx = Box::new(MemCtx {
            phys: phys.clone(),
            walker: Box::new(softmmu::tlb::IdentityWalker),
        });
        let env = Box::new(CpuEnv::new(&*ctx));
        Machine {
            env,
            _ctx: ctx,
            phys,
            tbs: HashMap::new(),
            chain,
        }
    }

    fn tb(&mut self, be: &dyn Backend, pc: u64) -> Arc<dyn CompiledTb> {
        if let Some((_, tb)) = self.tbs.get(&pc) {
            return tb.clone();
        }
        let page = self
            .phys
            .ram_ptr(PhysAddr(pc & !0xfff), 4096)
            .expect("code page");
        // SAFETY: `page` is the host view of the RAM page holding `pc`.
        let (mut f, _, n) = unsafe { translate_block(page, pc, TbFlags::at_el(1)) };
        tcg_opt::optimize(&mut f);
        let tb = be.compile(&f).expect("compile");
        self.tbs.insert(pc, (n as u64, tb.clone()));
        tb
    }

    /// Runs `iters` iterations of the outer loop (1 to 3999) from the captured state;
    /// returns X0..X30, the number of TB entries from this loop and the guest
    /// instructions of those TBs (chained entries do not come back here, so without
    /// chaining that is the number of guest instructions executed).
    pub fn run(&mut self, be: &dyn Backend, iters: u64) -> ([u64; 31], u64, u64) {
        self.env.x = REGS;
        self.env.x[1] = iters.clamp(1, 3999) + 1;
        self.env.sp = 0x400a_3f80;
        (self.env.nf, self.env.zf, self.env.cf, self.env.vf) = (0, 1, 1, 0);
        self.env.pc = LOOP;
        let mut from: Option<u64> = None;
        let (mut entries, mut insns) = (0, 0);
        while self.env.pc != AFTER {
            let pc = self.env.pc;
            let tb = self.tb(be, pc);
            if let Some(f) = from.take() {
                be.chain(f, &tb);
            }
            let env: *mut CpuEnv = &mut *self.env;
            // SAFETY: the env is live and used by this thread only.
            let code = unsafe { tb.exec_chained(env as *mut u8) };
            entries += 1;
            if std::env::var_os("LOOP_TRACE").is_some() {
                eprintln!("entry {pc:#x} -> exit {code:#x}");
            }
            insns += self.tbs.get(&pc).map_or(0, |t| t.0);
            match ExitCode::goto_tb_slot(code) {
                Some(_) if self.chain && code & ExitCode::CHAIN_BIT != 0 => from = Some(code),
                Some(_) => {}
                None if code == ExitCode::LOOKUP => {}
                None => panic!("unexpected exit {code:#x} at {:#x}", self.env.pc),
            }
        }
        (self.env.x, entries, insns)
    }
}
